/** What the CLI prints holds no terminal controls, whatever a server sent (cli/terminal.ts). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jsonText, printable } from '../../cli/terminal';
import { CONTROLS } from '../support/terminal';

test('printable: every C0 (but the line break), DEL and C1 control is gone; readable text stays as it was', () => {
  for (let code = 0; code <= 0x9f; code++) {
    const c = String.fromCharCode(code);
    const printed = printable(`a${c}b`);
    if (code === 0x0a) assert.equal(printed, 'a\nb');
    else if (code === 0x09) assert.equal(printed, 'a b', 'a tab is a space');
    else if (code < 0x20 || (code >= 0x7f && code <= 0x9f)) assert.equal(printed, 'ab', `U+${code.toString(16).padStart(4, '0')}`);
    else assert.equal(printed, `a${c}b`, `U+${code.toString(16).padStart(4, '0')} is text`);
  }
  const readable = 'café 東京 🚀 «quoted» Authorization: Bearer eyJhbGciOi.x-y_z= ~!@#$%^&*()[]{}|\\;:\'",.<>/?`';
  assert.equal(printable(readable), readable);
  assert.equal(printable('\u00a0\u00ff\u0100'), '\u00a0\u00ff\u0100', 'Latin-1 letters and the no-break space are text');
  assert.equal(printable('\u001b]0;owned\u0007\u001b[2J\u001b[1A\rred\u009b31m'), ']0;owned[2J[1Ared31m');
});

test('printable: a bidi formatting character shows as its code point, so reordered code cannot pass for harmless', () => {
  const bidi = [0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069];
  for (const code of bidi) {
    const hex = code.toString(16).toUpperCase().padStart(4, '0');
    assert.equal(printable(`a${String.fromCharCode(code)}b`), `a<U+${hex}>b`, `U+${hex}`);
  }
  // The Trojan Source shape (CVE-2021-42574): a comment that hides the code after it on screen.
  const trojan = 'if (isAdmin) { /* \u202e } \u2066if (true)\u2069 \u2066 begin admins only */';
  const shown = printable(trojan);
  assert.doesNotMatch(shown, CONTROLS);
  assert.equal(shown, 'if (isAdmin) { /* <U+202E> } <U+2066>if (true)<U+2069> <U+2066> begin admins only */');
  for (const text of ['\u200b zero width space', '\u200d joiner', 'עברית', 'العربية'])
    assert.equal(printable(text), text, 'other text, right-to-left scripts included, is untouched');
});

test('jsonText: the same document, with DEL and C1 escaped as JSON.stringify escapes C0', () => {
  const value = { reason: 'x\u001b[2J\u009b2J\u007f\u0085y', list: ['\u0007', 'plain', 'a\u202eb\u2066c'], n: 1 };
  const text = jsonText(value);
  assert.doesNotMatch(text.replace(/\n/g, ''), CONTROLS);
  assert.deepEqual(JSON.parse(text), value, 'a JSON reader gets the exact strings back');
  assert.equal(jsonText({ a: 'plain' }), JSON.stringify({ a: 'plain' }, null, 2));
});
