/** The event handler's decisions, against a stateful fake of the four CloudFront calls it makes. */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fakeCloudFront, type FakeCloudFront, arnOf } from './support/fake-cloudfront';
import { apiCall, createEvent, tagEvent, tagFunctionEvent, updateEvent } from './support/events';
import { captureLogs, eventHandlerWith, lambdaContext, type Settings, TEST_CREDENTIALS } from './support/lambda';
import type { EventSummary } from '../handlers/on-function-change';
import { AccessDenied } from '@aws-sdk/client-cloudfront';
import { cloudFrontGateway, createCloudFrontClient } from '../lib/cloudfront-gateway';
import { reconcile } from '../lib/reconcile';

const opted = { 'auto-publish': 'true' };
let cf: FakeCloudFront;

async function invoke(event: unknown, remainingMs?: number) {
  return captureLogs(async () => eventHandlerWith(settings)(event, lambdaContext(remainingMs)));
}
const actionOf = (r: { result?: EventSummary }) => r.result?.outcomes[0]?.action;

let settings: Settings = {};
beforeEach(() => {
  settings = {};
});
afterEach(() => cf?.restore());

describe('event path: publishing', () => {
  test('an update to an opted-in function is tested, then published with the DEVELOPMENT ETag just read, in 6 calls (4 once the container keeps the associations)', async () => {
    cf = fakeCloudFront({ 'url-rewrite': { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    const r = await invoke(updateEvent('url-rewrite'));
    assert.equal(actionOf(r), 'published');
    assert.deepEqual(cf.publishes, [{ name: 'url-rewrite', etag: 'E2' }]);
    // A new container reads the associations with the function listing that says which functions they speak for.
    assert.deepEqual(cf.calls.map((c) => c.op).slice(2), ['ListDistributions', 'ListFunctions', 'TestFunction', 'PublishFunction']);
    assert.equal(cf.count(), 6, 'ListTagsForResource ∥ DescribeFunction(DEVELOPMENT), ListDistributions ∥ ListFunctions, TestFunction, PublishFunction');
    assert.equal(cf.calls.find((c) => c.op === 'TestFunction')?.input.IfMatch, 'E2', 'what was tested is what goes live');
    const describe = cf.calls.find((c) => c.op === 'DescribeFunction');
    assert.equal(describe?.input.Stage, 'DEVELOPMENT');
    assert.equal(cf.calls.find((c) => c.op === 'ListTagsForResource')?.input.Resource, arnOf('url-rewrite'));
  });

  test('with PUBLISH_GATE=off an update costs 3 calls (4 when the status is not UNPUBLISHED)', async () => {
    settings = { PUBLISH_GATE: 'off' };
    cf = fakeCloudFront({ a: { tags: opted, devEtag: 'E2', liveEtag: 'E1' }, b: { tags: opted, devEtag: 'E3', liveEtag: 'E2', status: 'DEPLOYED' } });
    assert.equal(actionOf(await invoke(updateEvent('a'))), 'published');
    assert.equal(cf.count(), 3);
    assert.equal(actionOf(await invoke(updateEvent('b'))), 'published');
    assert.equal(cf.count(), 3 + 4);
    assert.equal(cf.count('TestFunction'), 0);
  });

  test('tags and DEVELOPMENT are read in parallel: one round trip before the publish', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
    let inFlight = 0;
    let maxInFlight = 0;
    const slow = async () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 20));
      inFlight--;
    };
    cf.hooks.ListTagsForResource = slow;
    cf.hooks.DescribeFunction = slow;
    const r = await invoke(createEvent('f'));
    assert.equal(actionOf(r), 'published');
    assert.equal(maxInFlight, 2);
  });

  test('plain and suffixed event names, and TagResource on a function, all reconcile', async () => {
    for (const event of [updateEvent('f', ''), createEvent('f'), tagFunctionEvent('f')]) {
      cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
      const r = await invoke(event);
      assert.equal(actionOf(r), 'published', JSON.stringify(event.detail.eventName));
      cf.restore();
    }
  });

  test('the name falls back to responseElements.functionSummary.name', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
    const event = apiCall('UpdateFunction2020_05_31', { requestParameters: null, responseElements: { functionSummary: { name: 'f' } } });
    assert.equal(actionOf(await invoke(event)), 'published');
  });

  test('a never-published function (no LIVE stage) is published', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E1' } });
    assert.equal(actionOf(await invoke(createEvent('f'))), 'published');
    assert.equal(cf.functions.get('f')?.liveEtag, 'E1');
  });
});

describe('event path: never publish what is not ours to publish', () => {
  test('a function without the tag is not published and not even described further', async () => {
    cf = fakeCloudFront({ f: { tags: { team: 'web' }, devEtag: 'E2', liveEtag: 'E1' } });
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'skipped-not-opted-in');
    assert.equal(cf.count('PublishFunction'), 0);
  });

  test('tag value is compared case-insensitively after trimming; other values do not opt in', async () => {
    for (const [value, expected] of [
      [' TRUE ', 'published'],
      ['True', 'published'],
      ['yes', 'skipped-not-opted-in'],
      ['false', 'skipped-not-opted-in'],
      ['', 'skipped-not-opted-in'],
    ] as const) {
      cf = fakeCloudFront({ f: { tags: { 'auto-publish': value }, devEtag: 'E2' } });
      assert.equal(actionOf(await invoke(updateEvent('f'))), expected, `tag value ${JSON.stringify(value)}`);
      cf.restore();
    }
  });

  test('custom tag key and value come from the settings', async () => {
    settings = { ...settings, AUTO_PUBLISH_TAG_KEY: 'team:publish' };
    settings = { ...settings, AUTO_PUBLISH_TAG_VALUE: 'Always' };
    cf = fakeCloudFront({
      a: { tags: { 'team:publish': 'always' }, devEtag: 'E2' },
      b: { tags: { 'auto-publish': 'true' }, devEtag: 'E2' },
    });
    assert.equal(actionOf(await invoke(updateEvent('a'))), 'published');
    assert.equal(actionOf(await invoke(updateEvent('b'))), 'skipped-not-opted-in');
    assert.deepEqual(
      cf.publishes.map((p) => p.name),
      ['a'],
    );
  });

  test('an in-sync function (status UNASSOCIATED) is not published: LIVE is read, ETags compared, no no-op publish', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E2' } });
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'skipped-in-sync');
    assert.equal(cf.count('PublishFunction'), 0);
    assert.equal(cf.count(), 3, 'tags ∥ DEVELOPMENT, then LIVE: a status never says "in sync" by itself');
  });

  test('DEPLOYED in sync: LIVE is read and the ETags agree, nothing published', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E2', status: 'DEPLOYED' } });
    assert.equal(actionOf(await invoke(updateEvent('f'))), 'skipped-in-sync');
    assert.deepEqual(
      cf.calls.filter((c) => c.op === 'DescribeFunction').map((c) => c.input.Stage),
      ['DEVELOPMENT', 'LIVE'],
    );
  });

  // The unconfirmed reading: DEVELOPMENT of an associated function keeps saying DEPLOYED after an
  // update. A status label must not hide the edit (docs/cloudfront-api.md#status-values).
  for (const status of ['DEPLOYED', 'UNASSOCIATED']) {
    test(`an edited function whose DEVELOPMENT still says ${status} is published, in 4 calls`, async () => {
      cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E3', liveEtag: 'E2', status } });
      const r = await invoke(updateEvent('f'));
      assert.equal(actionOf(r), 'published');
      assert.deepEqual(cf.publishes, [{ name: 'f', etag: 'E3' }]);
      assert.equal(cf.count(), 7, 'tags ∥ DEVELOPMENT, LIVE, ListDistributions ∥ ListFunctions (a new container), TestFunction, Publish');
    });
  }

  test('an unknown status reads LIVE and compares ETags (two round trips before the publish)', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1', status: 'IN_PROGRESS' } });
    assert.equal(actionOf(await invoke(updateEvent('f'))), 'published');
    assert.deepEqual(
      cf.calls.filter((c) => c.op === 'DescribeFunction').map((c) => c.input.Stage),
      ['DEVELOPMENT', 'LIVE'],
    );

    cf.restore();
    cf = fakeCloudFront({ g: { tags: opted, devEtag: 'E2', liveEtag: 'E2', status: 'IN_PROGRESS' } });
    assert.equal(actionOf(await invoke(updateEvent('g'))), 'skipped-in-sync');
    assert.equal(cf.count('PublishFunction'), 0);
  });

  test('dry run decides and reports the same, publishes nothing', async () => {
    settings = { ...settings, DRY_RUN: 'true' };
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' }, g: { tags: {}, devEtag: 'E2' } });
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'would-publish');
    assert.equal(r.result?.outcomes[0]?.etag, 'E2');
    assert.equal(actionOf(await invoke(updateEvent('g'))), 'skipped-not-opted-in');
    assert.equal(cf.count('PublishFunction'), 0);
    assert.equal(cf.functions.get('f')?.liveEtag, 'E1');
  });

  test('AUTO_PUBLISH_ALLOWED_NAMES: outside the patterns nothing is published or even read', async () => {
    settings = { ...settings, AUTO_PUBLISH_ALLOWED_NAMES: 'edge-*, auth' };
    cf = fakeCloudFront({ 'edge-a': { tags: opted, devEtag: 'E2' }, auth: { tags: opted, devEtag: 'E2' }, other: { tags: opted, devEtag: 'E2' } });
    assert.equal(actionOf(await invoke(updateEvent('edge-a'))), 'published');
    assert.equal(actionOf(await invoke(updateEvent('auth'))), 'published');
    const before = cf.count();
    assert.equal(actionOf(await invoke(updateEvent('other'))), 'skipped-not-allowed');
    assert.equal(cf.count(), before);
  });
});

describe('event path: 412 races', () => {
  test('another writer updated the function between our read and our publish: retry with the fresh ETag', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = (_input, n) => {
      if (n === 1) cf.update('f');
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'published');
    const fresh = cf.functions.get('f')?.devEtag;
    assert.notEqual(fresh, 'E2');
    assert.deepEqual(
      cf.calls.filter((c) => c.op === 'PublishFunction').map((c) => c.input.IfMatch),
      ['E2', fresh],
    );
    assert.equal(r.result?.outcomes[0]?.etag, fresh);
    assert.equal(r.result?.outcomes[0]?.publishAttempts, 2);
  });

  test('another actor published first: the 412 ends as already-published, without a second publish', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = (_input, n) => {
      if (n === 1) cf.publishAsOtherActor('f');
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'already-published');
    assert.equal(cf.count('PublishFunction'), 1);
  });

  test('the no-op-publish 412 (already in sync, status stale) ends as already-published', async () => {
    // Status says UNPUBLISHED although LIVE already equals DEVELOPMENT: the publish gets the
    // Terraform-49572 412; re-reading both stages shows the function in sync.
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E2', status: 'UNPUBLISHED' } });
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'already-published');
    assert.equal(cf.count('PublishFunction'), 1);
  });

  test('the tag removed during the race: the retry is decided on fresh tags and does not publish', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = (_input, n) => {
      if (n === 1) {
        cf.update('f');
        (cf.functions.get('f') as { tags: Record<string, string> }).tags = {};
      }
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'skipped-not-opted-in');
    assert.equal(cf.count('PublishFunction'), 1);
  });

  test('a raced duplicate (another actor published first) re-reads both stages after the 412, not the tags: 7 calls become 6', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = (_input, n) => {
      if (n === 1) cf.publishAsOtherActor('f');
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'already-published');
    // A new container's read of the associations (ListDistributions ∥ ListFunctions) aside.
    assert.deepEqual(
      cf.calls.map((c) => c.op).filter((op) => op !== 'ListDistributions' && op !== 'ListFunctions'),
      ['ListTagsForResource', 'DescribeFunction', 'TestFunction', 'PublishFunction', 'DescribeFunction', 'DescribeFunction'],
    );
  });

  test('a publish after a 412 is decided, tested and sent on tags read after the 412', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = (_input, n) => {
      if (n === 1) cf.update('f');
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'published');
    const ops = cf.calls.map((c) => c.op);
    const refused = ops.indexOf('PublishFunction');
    const retried = ops.lastIndexOf('PublishFunction');
    assert.ok(refused < retried, ops.join(' '));
    const tagsAfter = ops.indexOf('ListTagsForResource', refused + 1);
    const testAfter = ops.indexOf('TestFunction', refused + 1);
    assert.ok(tagsAfter > refused && tagsAfter < testAfter && testAfter < retried, ops.join(' '));
    assert.equal(cf.calls[testAfter]?.input.IfMatch, cf.functions.get('f')?.devEtag, 'the new version is tested');
  });

  test('the tag removed after the 412 was answered (while both stages are re-read): the retry reads the tags again and publishes nothing', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = (_input, n) => {
      if (n === 1) cf.update('f');
    };
    // DescribeFunction #1 is the first read of DEVELOPMENT; #2 and #3 are the re-read after the 412.
    cf.hooks.DescribeFunction = (_input, n) => {
      if (n === 2) (cf.functions.get('f') as { tags: Record<string, string> }).tags = {};
    };
    const r = await invoke(updateEvent('f'));
    assert.equal(actionOf(r), 'skipped-not-opted-in');
    assert.equal(cf.count('PublishFunction'), 1);
    assert.equal(cf.count('TestFunction'), 1, 'the new version is not even tested');
    const ops = cf.calls.map((c) => c.op);
    assert.ok(ops.lastIndexOf('ListTagsForResource') > ops.indexOf('PublishFunction'), ops.join(' '));
  });

  test('three 412s in a row fail with an error naming the function', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = () => cf.update('f');
    const r = await invoke(updateEvent('f'));
    assert.ok(r.error instanceof Error);
    assert.match(r.error.message, /^f: .*412.*3 times/);
    assert.equal(cf.count('PublishFunction'), 3);
    const failed = r.lines.find((l) => l.action === 'failed');
    assert.equal(failed?.function, 'f');
  });
});

describe('event path: duplicates, gone and failures', () => {
  test('duplicate delivery: the second copy finds the function in sync and does nothing', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    const event = updateEvent('f');
    assert.equal(actionOf(await invoke(event)), 'published');
    assert.equal(actionOf(await invoke(event)), 'skipped-in-sync');
    assert.equal(cf.count('PublishFunction'), 1);
  });

  test('a deleted function is gone, with no error', async () => {
    cf = fakeCloudFront({});
    const r = await invoke(updateEvent('deleted'));
    assert.equal(r.error, undefined);
    assert.equal(actionOf(r), 'gone');
    assert.equal(cf.count('PublishFunction'), 0);
  });

  test('deleted between the read and the publish: gone', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
    cf.hooks.PublishFunction = () => void cf.functions.delete('f');
    assert.equal(actionOf(await invoke(updateEvent('f'))), 'gone');
  });

  test('tags that cannot be read (AccessDenied) make the handler throw, and nothing is published', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
    cf.hooks.ListTagsForResource = () => {
      throw new AccessDenied({ message: 'not authorized to perform cloudfront:ListTagsForResource', $metadata: { httpStatusCode: 403 } });
    };
    const r = await invoke(updateEvent('f'));
    assert.ok(r.error instanceof Error);
    assert.match(r.error.message, /^f: AccessDenied/);
    assert.equal(cf.count('PublishFunction'), 0);
  });

  test('a throttle that outlasts the SDK retries (and a 5xx) makes the handler throw', async () => {
    for (const name of ['Throttling', 'ServiceUnavailable']) {
      cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
      cf.hooks.DescribeFunction = () => {
        throw Object.assign(new Error('Rate exceeded'), { name, $metadata: { httpStatusCode: name === 'Throttling' ? 400 : 503 } });
      };
      const r = await invoke(updateEvent('f'));
      assert.ok(r.error instanceof Error, name);
      assert.match(r.error.message, new RegExp(`^f: ${name}`));
      assert.equal(cf.count('PublishFunction'), 0);
      cf.restore();
    }
  });
});

describe('event path: what is ignored and what is rejected', () => {
  const ignored = {
    'a failed call': apiCall('UpdateFunction2020_05_31', {
      errorCode: 'PreconditionFailed',
      errorMessage: 'x',
      requestParameters: null,
      responseElements: null,
    }),
    'TagResource on a distribution': tagEvent('arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL'),
    'TagResource on a KeyValueStore': tagEvent('arn:aws:cloudfront::123456789012:key-value-store/0f4c1a2b'),
    PublishFunction: apiCall('PublishFunction2020_05_31', { requestParameters: { name: 'f', ifMatch: 'E2' } }),
    DeleteFunction: apiCall('DeleteFunction2020_05_31', { requestParameters: { name: 'f', ifMatch: 'E2' } }),
    UntagResource: apiCall('UntagResource', { requestParameters: { resource: arnOf('f') } }),
    'another account': updateEvent('f'),
    'another account, naming no function': apiCall(
      'UpdateFunction2020_05_31',
      { requestParameters: 'HIDDEN_DUE_TO_SECURITY_REASONS', responseElements: null, recipientAccountId: '210987654321' },
      { account: '210987654321' },
    ),
    'a scheduled event': { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} },
  };
  ignored['another account'].detail.recipientAccountId = '210987654321';
  (ignored['another account'] as { account: string }).account = '210987654321';

  for (const [label, event] of Object.entries(ignored)) {
    test(`ignored with a log line and no CloudFront call: ${label}`, async () => {
      cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
      const r = await invoke(event);
      assert.equal(r.error, undefined);
      assert.ok(r.result?.ignored, 'the summary says why');
      assert.equal(cf.count(), 0);
      assert.ok(r.lines.some((l) => l.message === 'ignored event' && typeof l.reason === 'string'));
    });
  }

  const rejected: Record<string, [unknown, RegExp]> = {
    'no detail': [{ source: 'aws.cloudfront', 'detail-type': 'AWS API Call via CloudTrail' }, /no detail/],
    'detail as a string': [{ source: 'aws.cloudfront', 'detail-type': 'x', detail: 'UpdateFunction' }, /detail is "UpdateFunction", not a JSON object/],
    'an invalid name': [updateEvent('../etc'), /not a valid function name/],
    'TagResource with a resource that is not a string': [
      apiCall('TagResource', { requestParameters: { resource: 42 } }),
      /requestParameters.resource is number 42, not a resource ARN/,
    ],
    'not an object': [[1, 2], /not a JSON object/],
  };
  for (const [label, [event, message]] of Object.entries(rejected)) {
    test(`rejected with a clear error (so Lambda keeps it): ${label}`, async () => {
      cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
      const r = await invoke(event);
      assert.ok(r.error instanceof Error);
      assert.equal(r.error.name, 'BadEventError');
      assert.match(r.error.message, message);
      assert.equal(cf.count(), 0);
    });
  }

  // No successful function record is public (docs/cloudfront-api.md#cloudtrail-events): a record of
  // ours may name no function. Only a sweep of the account finds the change; the record still fails.
  const unnamed: Record<string, [unknown, RegExp]> = {
    'an Update with no resolvable name': [apiCall('UpdateFunction', { requestParameters: { ifMatch: 'E1' }, responseElements: null }), /no function name/],
    'an Update whose requestParameters are redacted': [
      apiCall('UpdateFunction2020_05_31', { requestParameters: 'HIDDEN_DUE_TO_SECURITY_REASONS', responseElements: null }),
      /no function name/,
    ],
    'a Create whose name is null': [apiCall('CreateFunction', { requestParameters: { name: null }, responseElements: null }), /no function name/],
    'TagResource without a resource': [apiCall('TagResource', { requestParameters: {} }), /requestParameters.resource/],
    'TagResource whose requestParameters are redacted': [
      apiCall('TagResource2020_05_31', { requestParameters: 'HIDDEN_DUE_TO_SECURITY_REASONS', responseElements: null }),
      /requestParameters.resource/,
    ],
  };
  for (const [label, [event, message]] of Object.entries(unnamed)) {
    test(`naming no function: the account is swept, then the invocation fails with a clear error: ${label}`, async () => {
      cf = fakeCloudFront({
        edited: { tags: opted, devEtag: 'E2', liveEtag: 'E1' },
        'in-sync': { tags: opted, devEtag: 'E1', liveEtag: 'E1' },
        'not-opted-in': { tags: { team: 'web' }, devEtag: 'E2', liveEtag: 'E1' },
      });
      const r = await invoke(event);
      assert.ok(r.error instanceof Error);
      assert.equal(r.error.name, 'BadEventError');
      assert.match(r.error.message, message);
      // The sweep's decisions: both stages listed, the edited opted-in function published with the
      // DEVELOPMENT ETag, the in-sync one not even read, the one not opted in not published.
      assert.equal(cf.count('ListFunctions'), 2);
      assert.deepEqual(cf.publishes, [{ name: 'edited', etag: 'E2' }]);
      assert.ok(!cf.calls.some((c) => c.input.Name === 'in-sync' || c.input.Resource === arnOf('in-sync')));
      assert.ok(r.lines.some((l) => l.message === 'account sweep started' && l.account === '123456789012'));
      assert.ok(r.lines.some((l) => l.message === 'outcome' && l.function === 'edited' && l.action === 'published' && l.trigger === 'sweep'));
    });
  }

  test('naming no function: a sweep that cannot run is logged, and the record still fails with its own error', async () => {
    settings = { SWEEP_RESERVE_MS: '60000' };
    cf = fakeCloudFront({ edited: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    const r = await invoke(unnamed['an Update whose requestParameters are redacted']![0], 30_000);
    assert.ok(r.error instanceof Error);
    assert.equal(r.error.name, 'BadEventError');
    assert.equal(cf.count(), 0);
    const line = r.lines.find((l) => l.message === 'account sweep not done');
    assert.match(String(line?.error), /SWEEP_RESERVE_MS/);
  });

  test('a setting that cannot be parsed fails before any AWS call, naming the variable', async () => {
    settings = { ...settings, DRY_RUN: 'maybe' };
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2' } });
    const r = await invoke(updateEvent('f'));
    assert.ok(r.error instanceof Error);
    assert.match(r.error.message, /^DRY_RUN: "maybe" is not true or false/);
    assert.equal(cf.count(), 0);
  });
});

describe('event path: reporting', () => {
  test('one structured log line per decision, with function, trigger, action and ETag, and an EMF count', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    const r = await invoke(updateEvent('f'));
    const line = r.lines.find((l) => l.message === 'outcome');
    assert.equal(line?.function, 'f');
    assert.equal(line?.trigger, 'UpdateFunction');
    assert.equal(line?.action, 'published');
    assert.equal(line?.etag, 'E2');
    const emf = r.lines.find((l) => l._aws !== undefined);
    assert.equal(emf?.published, 1);
    assert.equal(line?.level, 'INFO');
  });

  test('a failed outcome is logged at error level (the errors alarm and log filters rely on it)', async () => {
    cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E2', liveEtag: 'E1' } });
    cf.hooks.PublishFunction = () => {
      throw new AccessDenied({ message: 'denied', $metadata: { httpStatusCode: 403 } });
    };
    const r = await invoke(updateEvent('f'));
    const line = r.lines.find((l) => l.message === 'outcome');
    assert.equal(line?.action, 'failed');
    assert.equal(line?.level, 'ERROR');
  });
});

test('an ignored event is counted (ignored-event), so an EMF line is always written', async () => {
  cf = fakeCloudFront({});
  const r = await invoke(tagEvent('arn:aws:cloudfront::123456789012:distribution/E2QWRUHAPOMQZL'));
  const emf = r.lines.find((l) => l._aws !== undefined);
  assert.equal(emf?.['ignored-event'], 1);
});

describe('event path: reading LIVE eagerly (the measured alternative)', () => {
  const policy = { optedIn: (t: Readonly<Record<string, string>>) => t['auto-publish'] === 'true', nameAllowed: () => true, dryRun: false, gate: false };
  const gateway = () => cloudFrontGateway(createCloudFrontClient({ maxAttempts: 1, credentials: TEST_CREDENTIALS }));
  for (const [status, live, expected] of [
    ['DEPLOYED', 'E2', 'published'],
    ['UNPUBLISHED', 'E2', 'published'],
    ['DEPLOYED', 'E3', 'skipped-in-sync'],
  ] as const) {
    test(`eagerLive reads tags, DEVELOPMENT and LIVE in one round trip (${status}, LIVE ${live} → ${expected})`, async () => {
      cf = fakeCloudFront({ f: { tags: opted, devEtag: 'E3', liveEtag: live, status } });
      const outcome = await reconcile({ name: 'f', arn: arnOf('f') }, 'UpdateFunction', {
        cloudfront: gateway(),
        policy,
        eagerDevelopment: true,
        eagerLive: true,
      });
      assert.equal(outcome.action, expected);
      assert.deepEqual(
        cf.calls
          .slice(0, 3)
          .map((c) => c.op)
          .sort(),
        ['DescribeFunction', 'DescribeFunction', 'ListTagsForResource'],
      );
      assert.equal(cf.count(), expected === 'published' ? 4 : 3);
    });
  }
});
