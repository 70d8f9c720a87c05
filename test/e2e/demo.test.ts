/** `npm start` (the demo) as a user sees it: every opted-in function ends live, the rest untouched. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { main } from '../../cli/main';

test('the demo shows functions of both kinds going live by event and by sweep, and exits 0', async () => {
  const out: string[] = [];
  const code = await main(['demo'], { out: (t) => out.push(t), err: (t) => out.push(t), interactive: false, env: process.env });
  const text = out.join('\n');
  assert.equal(code, 0, text);
  const after = text.slice(text.indexOf('After the event path'));
  const row = (name: string) => after.split('\n').find((l) => l.startsWith(`${name} `)) ?? '';
  assert.match(row('url-rewrite'), /yes\s+published\s+event \(UpdateFunction\)$/);
  assert.match(row('security-headers'), /yes\s+published\s+event \(CreateFunction\)$/);
  assert.match(row('auth-check'), /yes\s+published\s+event \((TagResource|UpdateFunction)\)$/);
  assert.match(row('cache-key'), /yes\s+published\s+sweep$/, 'the lost event is repaired by the sweep');
  assert.match(row('ab-test'), /NO\s+skipped-not-opted-in/);
  // The publish gate: a function that throws and one over the compute maximum stay on their old code.
  assert.match(row('price-banner'), /NO\s+blocked\s+event \(UpdateFunction\)$/);
  assert.match(row('heavy-rewrite'), /NO\s+blocked\s+event \(UpdateFunction\)$/);
  // Connection functions (issue 19): a console edit that denies the smoke connection goes live (a deny
  // is a decision); one with a typo throws in the handshake and is blocked.
  assert.match(row('mtls-partners'), /^mtls-partners\s+connection\s+auto-publish=true\s+(\w+)\s+\1\s+yes\s+published\s+event \(UpdateConnectionFunction\)$/);
  assert.match(row('mtls-revocation'), /^mtls-revocation\s+connection\s+.*NO\s+blocked\s+event \(UpdateConnectionFunction\)$/);
  assert.match(row('url-rewrite'), /^url-rewrite\s+function\s/);
  assert.match(text, /mtls-partners denies certificates from any other CA, the smoke test's too: a deny is a decision, so it went live\./);
  assert.match(text, /mtls-revocation: smoke connection-request: the function threw/);
  assert.match(text, /Blocked by the publish gate, old code still live: heavy-rewrite, mtls-revocation, price-banner\./);
  assert.match(text, /price-banner: .*the function threw/);
  assert.match(text, /heavy-rewrite: .*ComputeUtilization \d+ is above the maximum 70/);
  assert.match(text, /Opted-in functions not live: 0\./);
  // The brake (issue 18): an edit held while paused, live after the resume.
  assert.match(text, /console user updates url-rewrite: event paused, sweep paused; .*\(old code still live\)\./);
  assert.match(text, /sweep: 1 published\. url-rewrite LIVE \w+: in sync\./);
});
