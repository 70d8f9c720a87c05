/**
 * Real ETags repeat across functions (every function walks the same sequence), so a check keyed on an
 * ETag alone can be fooled. These cases show it, on the checks the convergence property uses.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { etagForVersion } from '../../emulator';
import { RECONCILER_ACTOR } from '../../local/local-stack';
import { etagUseViolations, gateViolations, type ModelCall, source } from './harness';
import { repeated, versionKey } from '../support/versions';

const V2 = etagForVersion(2);
const V3 = etagForVersion(3);
let seq = 0;
const call = (c: Partial<ModelCall> & Pick<ModelCall, 'op' | 'name'>): ModelCall => ({
  seq: ++seq,
  actor: RECONCILER_ACTOR,
  invocation: 'event-1',
  ok: true,
  ...c,
});

test("invariant 3 is keyed on the function: a publish sent with another function's ETag is caught although this invocation read that ETag", () => {
  // fn-b is at version 2, fn-a at version 3. The invocation publishes fn-a with V2: fn-a's own stale
  // version 2, and exactly the ETag it just read for fn-b.
  const calls = [
    call({ op: 'describeFunction', name: 'fn-b', stage: 'DEVELOPMENT', etag: V2 }),
    call({ op: 'describeFunction', name: 'fn-a', stage: 'DEVELOPMENT', etag: V3 }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V2, developmentEtag: V3, ok: false, error: 'PreconditionFailed' }),
  ];
  const publish = calls[2]!;
  // Keyed on the ETag alone ("IfMatch is an ETag this invocation read"), the check passes: fooled.
  const readByEtagAlone = calls.some(
    (c) => c.op === 'describeFunction' && c.invocation === publish.invocation && c.seq < publish.seq && c.etag === publish.ifMatch,
  );
  assert.equal(readByEtagAlone, true, 'the ETag-only check finds V2 among the reads and is satisfied');
  // Keyed on function and invocation, it is not.
  const violations = etagUseViolations(publish, calls);
  assert.equal(violations.length, 1, violations.join('\n'));
  assert.match(violations[0]!, /publish #\d+ of fn-a sent IfMatch \w+, but its last DEVELOPMENT read \(#\d+\) said \w+/);
});

test("invariant 3 accepts the same publish when it carries fn-a's own ETag", () => {
  const calls = [
    call({ op: 'describeFunction', name: 'fn-b', stage: 'DEVELOPMENT', etag: V2 }),
    call({ op: 'describeFunction', name: 'fn-a', stage: 'DEVELOPMENT', etag: V3 }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V3, developmentEtag: V3, etag: V3 }),
  ];
  assert.deepEqual(etagUseViolations(calls[2]!, calls), []);
});

test('"no version published twice": two functions published at the same version share the ETag; only function+ETag tells them apart', () => {
  const publishes = [
    { name: 'fn-a', etag: etagForVersion(1) },
    { name: 'fn-b', etag: etagForVersion(1) },
    { name: 'fn-a', etag: V2 },
  ];
  assert.deepEqual(repeated(publishes.map((p) => p.etag)), [etagForVersion(1)], 'keyed on the ETag alone: a false "published twice"');
  assert.deepEqual(repeated(publishes.map((p) => versionKey(p.name, p.etag))), []);
  // And a real repeat is still caught.
  assert.deepEqual(repeated([...publishes, { name: 'fn-b', etag: etagForVersion(1) }].map((p) => versionKey(p.name, p.etag))), [
    versionKey('fn-b', etagForVersion(1)),
  ]);
});

// ------------------------------------------------------------------------------ invariant 6 (the gate)

const GOOD = source(3, 'good');
const THROWS = source(3, 'throws');
const PASSED = { computeUtilization: '4', errorMessage: '' };
const FAILED = { computeUtilization: '2', errorMessage: 'broken v3' };

test('invariant 6 accepts a publish right after this invocation passed a test of that function at that ETag', () => {
  const calls = [
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, etag: V3, code: GOOD, answer: PASSED }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V3, developmentEtag: V3, etag: V3, code: GOOD }),
  ];
  assert.deepEqual(gateViolations(calls[1]!, calls), []);
});

test('invariant 6 is keyed on invocation, function and ETag: a passed test of the same ETag by another invocation, or of another function, does not count', () => {
  // fn-b at V3 passed its test in this invocation; fn-a at V3 passed in another invocation. This
  // invocation publishes fn-a at V3 untested. Keyed on the ETag alone, both tests would "cover" it.
  const calls = [
    call({ op: 'testFunction', name: 'fn-b', ifMatch: V3, etag: V3, code: GOOD, answer: PASSED }),
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, etag: V3, code: GOOD, answer: PASSED, invocation: 'sweep-2' }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V3, developmentEtag: V3, etag: V3, code: GOOD }),
  ];
  const publish = calls[2]!;
  assert.equal(
    calls.some((c) => c.op === 'testFunction' && c.etag === publish.ifMatch),
    true,
    'an ETag-only check finds a passed test of V3',
  );
  const violations = gateViolations(publish, calls);
  assert.equal(violations.length, 1, violations.join('\n'));
  assert.match(violations[0]!, /^6: publish #\d+ of fn-a .* by event-1 without a TestFunction of fn-a before it$/);
});

test('invariant 6: the last test counts ("just before"): a pass of V2 followed by a test of V3 does not cover a publish of V2', () => {
  const calls = [
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V2, etag: V2, code: GOOD, answer: PASSED }),
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, etag: V3, code: GOOD, answer: PASSED }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V2, developmentEtag: V3, ok: false, error: 'PreconditionFailed' }),
  ];
  const violations = gateViolations(calls[2]!, calls);
  assert.equal(violations.length, 1, violations.join('\n'));
  assert.match(violations[0]!, /its last TestFunction \(#\d+\) tested \w+, another version/);
});

test('invariant 6: a publish after a failed test is caught, even one CloudFront refused', () => {
  const calls = [
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, etag: V3, code: THROWS, answer: FAILED }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V3, developmentEtag: V3, ok: false, error: 'InternalError' }),
  ];
  const violations = gateViolations(calls[1]!, calls);
  assert.equal(violations.length, 2, violations.join('\n'));
  assert.match(violations[0]!, /its test \(#\d+\) failed/);
  assert.match(violations[1]!, /the tested code is throws, its test must fail/);
});

test('invariant 6: a test refused with 412, or answered with a fault only, covers no publish', () => {
  for (const test of [
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, ok: false, error: 'PreconditionFailed' }),
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, etag: V3, code: GOOD, answer: { error: 'InternalError' } }),
  ]) {
    const publish = call({ op: 'publishFunction', name: 'fn-a', ifMatch: V3, developmentEtag: V3, etag: V3, code: GOOD });
    assert.equal(gateViolations(publish, [test, publish]).length, 1, JSON.stringify(test));
  }
});

test('invariant 6: the code that went live must be the code tested', () => {
  const calls = [
    call({ op: 'testFunction', name: 'fn-a', ifMatch: V3, etag: V3, code: GOOD, answer: PASSED }),
    call({ op: 'publishFunction', name: 'fn-a', ifMatch: V3, developmentEtag: V3, etag: V3, code: THROWS }),
  ];
  const violations = gateViolations(calls[1]!, calls);
  assert.equal(violations.length, 1, violations.join('\n'));
  assert.match(violations[0]!, /put other code live than the code tested/);
});
