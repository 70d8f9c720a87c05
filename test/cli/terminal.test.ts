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

test('jsonText: the same document, with DEL and C1 escaped as JSON.stringify escapes C0', () => {
  const value = { reason: 'x\u001b[2J\u009b2J\u007f\u0085y', list: ['\u0007', 'plain'], n: 1 };
  const text = jsonText(value);
  assert.doesNotMatch(text.replace(/\n/g, ''), CONTROLS);
  assert.deepEqual(JSON.parse(text), value, 'a JSON reader gets the exact strings back');
  assert.equal(jsonText({ a: 'plain' }), JSON.stringify({ a: 'plain' }, null, 2));
});
