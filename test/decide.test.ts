/** The pure decision, step by step: what to read next, when to publish, and with which ETag. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, isSweepCandidate, type Observation, type Policy, stageSync } from '../lib/decide';

const policy: Policy = { optedIn: (t) => t['auto-publish'] === 'true', nameAllowed: () => true, dryRun: false, gate: false };
const on = { 'auto-publish': 'true' };
const dev = (etag: string, status = 'UNPUBLISHED') => ({ etag, status });

test('reads tags first, then DEVELOPMENT, then LIVE only for an unknown status', () => {
  assert.deepEqual(decide('f', {}, policy), { kind: 'read-tags' });
  assert.deepEqual(decide('f', { tags: on }, policy), { kind: 'read', stage: 'DEVELOPMENT' });
  assert.deepEqual(decide('f', { tags: on, development: dev('E2', 'SOMETHING_NEW') }, policy), { kind: 'read', stage: 'LIVE' });
});

test('publishes with the DEVELOPMENT ETag only when opted in and LIVE differs', () => {
  assert.deepEqual(decide('f', { tags: on, development: dev('E2') }, policy), { kind: 'publish', etag: 'E2' });
  assert.deepEqual(decide('f', { tags: on, development: dev('E2', 'X'), live: null }, policy), { kind: 'publish', etag: 'E2' });
  assert.deepEqual(decide('f', { tags: on, development: dev('E2', 'X'), live: dev('E1', 'UNASSOCIATED') }, policy), { kind: 'publish', etag: 'E2' });
  assert.equal(decide('f', { tags: {}, development: dev('E2') }, policy).kind, 'done');
});

test('every terminal action', () => {
  const cases: [Observation, Policy, string][] = [
    [{ tags: {} }, policy, 'skipped-not-opted-in'],
    [{ tags: on, development: dev('E2', 'UNASSOCIATED'), live: dev('E2', 'UNASSOCIATED') }, policy, 'skipped-in-sync'],
    [{ tags: on, development: dev('E2', 'DEPLOYED'), live: dev('E2', 'DEPLOYED') }, policy, 'skipped-in-sync'],
    [{ tags: on, development: dev('E2', 'UNPUBLISHED'), live: dev('E2', 'UNASSOCIATED'), afterConflict: true }, policy, 'already-published'],
    [{ tags: 'gone' }, policy, 'gone'],
    [{ tags: on, development: null }, policy, 'gone'],
    [{ tags: on, development: dev('E2') }, { ...policy, dryRun: true }, 'would-publish'],
    [{}, { ...policy, nameAllowed: () => false }, 'skipped-not-allowed'],
  ];
  for (const [seen, p, action] of cases) {
    const step = decide('f', seen, p);
    assert.equal(step.kind === 'done' ? step.action : step.kind, action, JSON.stringify(seen));
  }
});

test('no status says "in sync" without LIVE: UNASSOCIATED, DEPLOYED, IN_PROGRESS and unknown ones read LIVE', () => {
  for (const status of ['UNASSOCIATED', 'DEPLOYED', 'IN_PROGRESS', 'SOMETHING_NEW', '']) {
    assert.deepEqual(decide('f', { tags: on, development: dev('E2', status) }, policy), { kind: 'read', stage: 'LIVE' }, status);
  }
  assert.deepEqual(decide('f', { tags: on, development: dev('E2', 'UNPUBLISHED') }, policy), { kind: 'publish', etag: 'E2' });
});

test('sweep candidates from the two listings alone, under every reading of status and LastModifiedTime', () => {
  const t = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms));
  const stage = (status: string, ms: number | undefined) => ({ status, lastModified: t(ms) });
  // Untouched since the last publish: not a candidate, whether LIVE's time is the publish's or a copy.
  assert.equal(isSweepCandidate(stage('UNASSOCIATED', 100), stage('UNASSOCIATED', 200)), false);
  assert.equal(isSweepCandidate(stage('DEPLOYED', 100), stage('DEPLOYED', 100)), false);
  // Edited after the publish, whatever the status says.
  assert.equal(isSweepCandidate(stage('DEPLOYED', 300), stage('DEPLOYED', 200)), true);
  assert.equal(isSweepCandidate(stage('UNASSOCIATED', 300), stage('UNASSOCIATED', 100)), true);
  assert.equal(isSweepCandidate(stage('UNPUBLISHED', 100), stage('UNASSOCIATED', 200)), true);
  // Never published, unknown status, or a time we cannot read.
  assert.equal(isSweepCandidate(stage('UNASSOCIATED', 100), undefined), true);
  assert.equal(isSweepCandidate(stage('IN_PROGRESS', 100), stage('DEPLOYED', 200)), true);
  assert.equal(isSweepCandidate(stage('DEPLOYED', undefined), stage('DEPLOYED', 200)), true);
  assert.equal(isSweepCandidate(stage('DEPLOYED', 100), stage('DEPLOYED', undefined)), true);
});

test('a read LIVE decides by ETag, whatever the status claims', () => {
  assert.equal(stageSync(dev('E2', 'UNPUBLISHED'), dev('E2', 'UNASSOCIATED')), 'in-sync');
  assert.equal(stageSync(dev('E2', 'UNASSOCIATED'), dev('E1', 'UNASSOCIATED')), 'differs');
  assert.equal(stageSync(dev('E2', 'UNASSOCIATED'), null), 'differs');
  assert.equal(stageSync(dev('E2', 'weird'), undefined), 'unknown');
});

test('the name guard is checked before anything is read', () => {
  assert.deepEqual(decide('f', {}, { ...policy, nameAllowed: () => false }), { kind: 'done', action: 'skipped-not-allowed' });
});

test('after a 412, LIVE holding exactly the ETag our own (retried) attempt sent means we published it', () => {
  const raced = { tags: on, development: dev('E2', 'UNASSOCIATED'), live: dev('E2', 'UNASSOCIATED'), afterConflict: true };
  assert.deepEqual(decide('f', { ...raced, ownPublishMayHaveLanded: 'E2' }, policy), { kind: 'done', action: 'published', etag: 'E2' });
  // Someone else's version is live, not the one we sent: not ours.
  assert.deepEqual(decide('f', { ...raced, ownPublishMayHaveLanded: 'E1' }, policy), { kind: 'done', action: 'already-published', etag: 'E2' });
  assert.deepEqual(decide('f', raced, policy), { kind: 'done', action: 'already-published', etag: 'E2' });
});

test('a refused publish with DEVELOPMENT unchanged and LIVE under another ETag: compare the code; the same version is in sync, another is published again', () => {
  // LIVE may hold DEVELOPMENT's version under an ETag of its own (a connection function's LIVE ETag is unconfirmed).
  const refused: Observation = { tags: on, development: dev('E2'), live: dev('L2', 'UNASSOCIATED'), afterConflict: true, refused: 'E2' };
  assert.deepEqual(decide('f', refused, policy), { kind: 'compare', etag: 'E2', live: 'L2' });
  assert.deepEqual(decide('f', { ...refused, compared: { etag: 'E2', live: 'L2', same: true } }, policy), {
    kind: 'done',
    action: 'already-published',
    etag: 'E2',
  });
  assert.deepEqual(decide('f', { ...refused, compared: { etag: 'E2', live: 'L2', same: true }, ownPublishMayHaveLanded: 'E2' }, policy), {
    kind: 'done',
    action: 'published',
    etag: 'E2',
  });
  assert.deepEqual(decide('f', { ...refused, compared: { etag: 'E2', live: 'L2', same: false } }, policy), { kind: 'publish', etag: 'E2' });
  // A comparison of other stages says nothing about these; DEVELOPMENT moved on: an ordinary publish of the new version.
  assert.deepEqual(decide('f', { ...refused, compared: { etag: 'E2', live: 'L1', same: true } }, policy), { kind: 'compare', etag: 'E2', live: 'L2' });
  assert.deepEqual(decide('f', { ...refused, development: dev('E3') }, policy), { kind: 'publish', etag: 'E3' });
  // Never published: nothing to compare.
  assert.deepEqual(decide('f', { ...refused, live: null }, policy), { kind: 'publish', etag: 'E2' });
});

test('tags read before a 412 may end a reconcile that publishes nothing; a test, a save, a publish, a pause or a dry run asks for them again', () => {
  const stale: Observation = { tags: on, tagsBeforeConflict: true, afterConflict: true, development: dev('E3'), live: dev('E2', 'UNASSOCIATED') };
  const policies: Policy[] = [
    policy,
    { ...policy, gate: true },
    { ...policy, gate: true, history: true },
    { ...policy, history: true },
    { ...policy, dryRun: true },
    { ...policy, gate: true, dryRun: true },
  ];
  for (const p of policies) {
    assert.deepEqual(decide('f', stale, p), { kind: 'read-tags' }, JSON.stringify(p));
    assert.deepEqual(decide('f', { ...stale, paused: 'maintenance' }, p), { kind: 'read-tags' }, 'paused');
    // A passed verdict and a saved LIVE from before the 412 change nothing: the tags come first.
    const tested = { etag: 'E3', verdict: { passed: true as const, cases: [] } };
    assert.deepEqual(decide('f', { ...stale, tested, saved: 'E2' }, p), { kind: 'read-tags' }, 'tested and saved');
    // Fresh tags: the ordinary decision.
    assert.notEqual(decide('f', { ...stale, tagsBeforeConflict: false }, p).kind, 'read-tags');
    assert.equal(decide('f', { ...stale, tagsBeforeConflict: false, tags: {} }, p).kind, 'done');
  }
  // In sync (someone else published): no tag read, whoever published it.
  const raced = { ...stale, development: dev('E3', 'UNASSOCIATED'), live: dev('E3', 'UNASSOCIATED') };
  assert.deepEqual(decide('f', raced, policy), { kind: 'done', action: 'already-published', etag: 'E3' });
  assert.deepEqual(decide('f', { ...raced, ownPublishMayHaveLanded: 'E3' }, policy), { kind: 'done', action: 'published', etag: 'E3' });
  // DEVELOPMENT unchanged, LIVE under another ETag: comparing the code needs no tags; publishing again does.
  const refused: Observation = { ...stale, development: dev('E3'), live: dev('L3', 'UNASSOCIATED'), refused: 'E3' };
  assert.deepEqual(decide('f', refused, policy), { kind: 'compare', etag: 'E3', live: 'L3' });
  assert.deepEqual(decide('f', { ...refused, compared: { etag: 'E3', live: 'L3', same: true } }, policy).kind, 'done');
  assert.deepEqual(decide('f', { ...refused, compared: { etag: 'E3', live: 'L3', same: false } }, policy), { kind: 'read-tags' });
});

test('no observation with tags from before a 412 is ever tested, saved, published, paused or reported as would-publish', () => {
  const stages = [undefined, null, dev('E1'), dev('E1', 'UNASSOCIATED'), dev('E2'), dev('E2', 'DEPLOYED'), dev('E2', 'SOMETHING_NEW')];
  const verdicts = [undefined, { etag: 'E2', verdict: { passed: true as const, cases: [] } }];
  const seenCount = { checked: 0, readTags: 0 };
  for (const development of stages)
    for (const live of stages)
      for (const tested of verdicts)
        for (const refused of [undefined, 'E2'])
          for (const compared of [undefined, { etag: 'E2', live: 'E1', same: false }, { etag: 'E2', live: 'E1', same: true }])
            for (const paused of [undefined, 'paused'])
              for (const p of [policy, { ...policy, gate: true, history: true }, { ...policy, dryRun: true, gate: true }]) {
                const seen: Observation = {
                  tags: on,
                  tagsBeforeConflict: true,
                  afterConflict: true,
                  ...(development !== undefined ? { development } : {}),
                  ...(live !== undefined ? { live } : {}),
                  ...(tested ? { tested } : {}),
                  ...(refused ? { refused } : {}),
                  ...(compared ? { compared } : {}),
                  ...(paused ? { paused } : {}),
                  saved: 'E1',
                };
                const step = decide('f', seen, p);
                seenCount.checked++;
                if (step.kind === 'read-tags') seenCount.readTags++;
                assert.ok(!['test', 'save-history', 'publish'].includes(step.kind), `${step.kind} on stale tags: ${JSON.stringify(seen)}`);
                if (step.kind === 'done') {
                  assert.ok(!['would-publish', 'paused', 'blocked'].includes(step.action), `${step.action} on stale tags: ${JSON.stringify(seen)}`);
                }
              }
  // The enumeration reaches the guard: it is not vacuous.
  assert.ok(seenCount.readTags > 100, JSON.stringify(seenCount));
});
