/**
 * REST-XML shapes of the 2020-05-31 API for the function and tagging calls: request bodies in,
 * response documents out. Element names and nesting mirror the SDK's schemas
 * (@aws-sdk/client-cloudfront, e.g. `FunctionSummary$`, `Tags$`, `TestResult$`).
 */
import type { FunctionConfig, FunctionSummary, ListResult, Tag } from './model';
import { errors } from './model';
import { child, children, childText, document, el, parseXml, XmlParseError, type XmlElement, type XmlFragment } from './xml';
import type { TestRun } from './runtime';

export function parseBody(body: string, expectedRoot: string): XmlElement {
  let root: XmlElement;
  try {
    root = parseXml(body);
  } catch (error) {
    if (error instanceof XmlParseError) throw errors.invalidArgument(`The XML you provided was not well-formed: ${error.message}`);
    throw error;
  }
  if (root.name !== expectedRoot) throw errors.invalidArgument(`Expected a ${expectedRoot} document, got ${root.name}.`);
  return root;
}

export function readFunctionConfig(parent: XmlElement): FunctionConfig {
  const config = child(parent, 'FunctionConfig');
  if (!config) throw errors.invalidArgument('FunctionConfig is required.');
  const associations = child(child(config, 'KeyValueStoreAssociations'), 'Items');
  return {
    comment: childText(config, 'Comment') ?? '',
    runtime: childText(config, 'Runtime') ?? '',
    keyValueStoreArns: children(associations, 'KeyValueStoreAssociation').map((a) => childText(a, 'KeyValueStoreARN') ?? ''),
  };
}

export function readBlob(parent: XmlElement, name: string): Buffer | undefined {
  const text = childText(parent, name);
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(trimmed) || trimmed.length % 4 !== 0) {
    throw errors.invalidArgument(`${name} must be base64-encoded.`);
  }
  return Buffer.from(trimmed, 'base64');
}

/** `<Tags><Items><Tag><Key/><Value/></Tag>…</Items></Tags>`; a missing Value is the empty string. */
export function readTags(tags: XmlElement | undefined): Tag[] {
  return children(child(tags, 'Items'), 'Tag').map((t) => ({ key: childText(t, 'Key') ?? '', value: childText(t, 'Value') ?? '' }));
}

export function readTagKeys(tagKeys: XmlElement): string[] {
  return children(child(tagKeys, 'Items'), 'Key').map((k) => k.text);
}

function configXml(config: FunctionConfig): XmlFragment {
  return el(
    'FunctionConfig',
    el('Comment', config.comment),
    el('Runtime', config.runtime),
    config.keyValueStoreArns.length
      ? el(
          'KeyValueStoreAssociations',
          el('Quantity', String(config.keyValueStoreArns.length)),
          el('Items', ...config.keyValueStoreArns.map((arn) => el('KeyValueStoreAssociation', el('KeyValueStoreARN', arn)))),
        )
      : undefined,
  );
}

function summaryChildren(s: FunctionSummary): XmlFragment[] {
  return [
    el('Name', s.name),
    el('Status', s.status),
    configXml(s.config),
    el(
      'FunctionMetadata',
      el('FunctionARN', s.arn),
      el('Stage', s.stage),
      el('CreatedTime', s.createdTime.toISOString()),
      el('LastModifiedTime', s.lastModifiedTime.toISOString()),
    ),
  ];
}

export function functionSummaryDocument(s: FunctionSummary): string {
  return document('FunctionSummary', ...summaryChildren(s));
}

export function functionListDocument(list: ListResult): string {
  return document(
    'FunctionList',
    list.nextMarker === undefined ? undefined : el('NextMarker', list.nextMarker),
    el('MaxItems', String(list.maxItems)),
    el('Quantity', String(list.items.length)),
    list.items.length ? el('Items', ...list.items.map((s) => el('FunctionSummary', ...summaryChildren(s)))) : undefined,
  );
}

export function tagsDocument(tags: Tag[]): string {
  return document('Tags', tags.length ? el('Items', ...tags.map((t) => el('Tag', el('Key', t.key), el('Value', t.value)))) : undefined);
}

export function testResultDocument(summary: FunctionSummary, run: TestRun): string {
  return document(
    'TestResult',
    el('FunctionSummary', ...summaryChildren(summary)),
    el('ComputeUtilization', run.computeUtilization),
    el('FunctionExecutionLogs', ...run.logs.map((line) => el('member', line))),
    el('FunctionErrorMessage', run.errorMessage),
    el('FunctionOutput', run.output),
  );
}

export function errorDocument(type: string, code: string, message: string, requestId: string): string {
  // Same root and nesting the SDK's rest-xml error parser reads: ErrorResponse/Error/Code.
  return document('ErrorResponse', el('Error', el('Type', type), el('Code', code), el('Message', message)), el('RequestId', requestId));
}
