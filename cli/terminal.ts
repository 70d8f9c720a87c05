/**
 * What the CLI prints comes partly from servers: function names, comments, a function's output and its
 * thrown message, error messages. A hostile or broken endpoint can put terminal controls in any of them
 * (ESC sequences that retitle the window, clear the screen, move the cursor over earlier lines or write
 * a clipboard; a carriage return that overprints a line), so nothing reaches the terminal with them.
 */
import type { Io } from './io';

/**
 * The C0 controls but the line break, DEL, and the C1 controls (U+0080–U+009F: U+009B is a one-character
 * CSI to some terminals).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g;

/**
 * The bidirectional formatting characters (Unicode TR9: marks, embeddings, overrides, isolates). They are
 * not terminal controls, but they reorder what follows them on screen: a function's code shown by `diff`
 * could read as harmless while it does something else ("Trojan Source", CVE-2021-42574). They are shown,
 * not removed, so a reviewer sees that the text holds them.
 */
const BIDI = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const codePoint = (c: string) => `U+${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/**
 * `text` without control characters: a tab becomes a space, every other control is removed, so what is
 * left of an escape sequence shows as plain text ("[31m") and readable text is untouched; a bidi
 * formatting character shows as its code point ("<U+202E>"). Line breaks are kept; a table cell or a
 * one-line message flattens them itself.
 */
export function printable(text: string): string {
  return text.replace(CONTROL, (c) => (c === '\t' ? ' ' : '')).replace(BIDI, (c) => `<${codePoint(c)}>`);
}

/** `io` with every line it prints made printable; the sweep's progress line (ours, counts only) writes to the real one. */
export function printableIo(io: Io): Io {
  return { ...io, out: (text) => io.out(printable(text)), err: (text) => io.err(printable(text)) };
}

/**
 * JSON for --json. JSON.stringify escapes C0 controls but leaves DEL, C1 and the bidi formatting
 * characters as they are; escaping them too keeps the document's meaning (a reader gets the server's
 * exact string back) and the terminal safe.
 */
export function jsonText(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(
    /[\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}
