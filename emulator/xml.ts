/**
 * The small XML subset CloudFront's REST-XML protocol needs: elements, text, the five predefined
 * entities, numeric character references, CDATA, comments and the XML declaration. Attributes are
 * read and discarded (only `xmlns` ever appears). Hand-written so the emulator has no runtime deps.
 */

export const CLOUDFRONT_XMLNS = 'http://cloudfront.amazonaws.com/doc/2020-05-31/';

export interface XmlElement {
  name: string;
  children: XmlElement[];
  /** Concatenated character data directly inside this element (entities decoded). */
  text: string;
}

export class XmlParseError extends Error {
  override name = 'XmlParseError';
}

export function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": 'apos' }[c]};`);
}

/** XML 1.0's Char production: what a character reference may name. */
function isXmlChar(code: number): boolean {
  return (
    code === 0x9 ||
    code === 0xa ||
    code === 0xd ||
    (code >= 0x20 && code <= 0xd7ff) ||
    (code >= 0xe000 && code <= 0xfffd) ||
    (code >= 0x10000 && code <= 0x10ffff)
  );
}

/** `offset` is where `raw` starts in the document, for the error message. */
function decodeEntities(raw: string, offset: number): string {
  return raw.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|amp|lt|gt|quot|apos);/g, (whole, ref: string, at: number) => {
    if (ref.startsWith('#')) {
      const code = ref.startsWith('#x') ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      // Out of Unicode's range, a surrogate, NUL...: not well-formed (and String.fromCodePoint would throw a RangeError).
      if (!isXmlChar(code)) throw new XmlParseError(`character reference ${whole} is not an XML character at offset ${offset + at}`);
      return String.fromCodePoint(code);
    }
    return ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[ref] ?? whole;
  });
}

/** Parses a document and returns its root element. Throws XmlParseError on malformed input. */
export function parseXml(source: string): XmlElement {
  let pos = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const fail = (why: string): never => {
    throw new XmlParseError(`${why} at offset ${pos}`);
  };

  while (pos < source.length) {
    const lt = source.indexOf('<', pos);
    const textEnd = lt === -1 ? source.length : lt;
    if (textEnd > pos) {
      const chunk = source.slice(pos, textEnd);
      const top = stack[stack.length - 1];
      if (top) top.text += decodeEntities(chunk, pos);
      else if (chunk.trim() !== '') fail('text outside the root element');
      pos = textEnd;
      continue;
    }
    if (source.startsWith('<?', pos)) {
      const end = source.indexOf('?>', pos);
      if (end === -1) fail('unterminated processing instruction');
      pos = end + 2;
    } else if (source.startsWith('<!--', pos)) {
      const end = source.indexOf('-->', pos);
      if (end === -1) fail('unterminated comment');
      pos = end + 3;
    } else if (source.startsWith('<![CDATA[', pos)) {
      const end = source.indexOf(']]>', pos);
      const top = stack[stack.length - 1];
      if (end === -1 || !top) fail('misplaced or unterminated CDATA');
      top!.text += source.slice(pos + 9, end);
      pos = end + 3;
    } else if (source.startsWith('<!', pos)) {
      fail('DTDs are not supported');
    } else if (source.startsWith('</', pos)) {
      const end = source.indexOf('>', pos);
      if (end === -1) fail('unterminated end tag');
      const name = source.slice(pos + 2, end).trim();
      const open = stack.pop();
      if (!open || open.name !== name) fail(`unexpected </${name}>`);
      pos = end + 1;
    } else {
      const end = source.indexOf('>', pos);
      if (end === -1) fail('unterminated start tag');
      let inner = source.slice(pos + 1, end);
      const selfClosing = inner.endsWith('/');
      if (selfClosing) inner = inner.slice(0, -1);
      const match = /^([A-Za-z_][\w.\-:]*)(\s[\s\S]*)?$/.exec(inner);
      if (!match) fail('malformed start tag');
      const element: XmlElement = { name: match![1]!, children: [], text: '' };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(element);
      else if (root) fail('more than one root element');
      else root = element;
      if (!selfClosing) stack.push(element);
      pos = end + 1;
    }
  }
  if (stack.length) fail(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) fail('no root element');
  return root!;
}

export function child(element: XmlElement | undefined, name: string): XmlElement | undefined {
  return element?.children.find((c) => c.name === name);
}

export function children(element: XmlElement | undefined, name: string): XmlElement[] {
  return element ? element.children.filter((c) => c.name === name) : [];
}

export function childText(element: XmlElement | undefined, name: string): string | undefined {
  return child(element, name)?.text;
}

/**
 * A tiny builder: `el('A', el('B', 'text'))`. Strings are escaped; `undefined` children are skipped
 * so optional members can be written inline.
 */
export type XmlNode = string | XmlFragment | undefined;
export interface XmlFragment {
  readonly xml: string;
}

export function el(name: string, ...content: XmlNode[]): XmlFragment {
  return { xml: `<${name}>${render(content)}</${name}>` };
}

export function document(rootName: string, ...content: XmlNode[]): string {
  return namespacedDocument(CLOUDFRONT_XMLNS, rootName, ...content);
}

/** The same for another service's namespace (STS answers in its own). */
export function namespacedDocument(namespace: string, rootName: string, ...content: XmlNode[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${rootName} xmlns="${namespace}">${render(content)}</${rootName}>`;
}

function render(content: XmlNode[]): string {
  return content.map((c) => (c === undefined ? '' : typeof c === 'string' ? escapeXml(c) : c.xml)).join('');
}
