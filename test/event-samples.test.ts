/**
 * The samples in events/ against the rule pattern as written in serverless.yml: each sample flagged
 * `triggers: true` in events/index.json must match it and every other sample must not. Also keeps the
 * samples honest: realistically shaped EventBridge envelopes around full CloudTrail records.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { matchesPattern, type EventPattern } from '../local/event-pattern';
import { readServerlessRules } from '../local/serverless-rules';
import { DISTRIBUTION_OPERATIONS, TRIGGERING_OPERATIONS } from '../lib/cloudtrail';

const root = fileURLToPath(new URL('..', import.meta.url));
const eventsDir = join(root, 'events');
const ACCOUNT = '123456789012';

type Json = any; // sample JSON; the assertions below do the checking
interface IndexEntry {
  triggers: boolean;
  description: string;
}

function rulePattern(): EventPattern {
  const { rules, skipped } = readServerlessRules();
  const patterns = rules.filter((r) => r.functionName === 'onFunctionChange').map((r) => r.pattern);
  assert.equal(patterns.length, 1, 'onFunctionChange has exactly one eventBridge pattern');
  assert.deepEqual(
    skipped.filter((s) => s.functionName === 'onFunctionChange'),
    [],
  );
  // A variable would be resolved by the framework: then this file would not show what gets deployed.
  assert.ok(!JSON.stringify(patterns[0]).includes('${'), 'the pattern must be literal');
  return patterns[0] as EventPattern;
}

const pattern = rulePattern();
const index = JSON.parse(readFileSync(join(eventsDir, 'index.json'), 'utf8')) as Record<string, IndexEntry>;
const files = readdirSync(eventsDir)
  .filter((f) => f.endsWith('.json') && f !== 'index.json')
  .sort();
const load = (file: string): Json => JSON.parse(readFileSync(join(eventsDir, file), 'utf8'));
const isCloudTrail = (event: Json) => event['detail-type'] === 'AWS API Call via CloudTrail';
const baseName = (eventName: string) => eventName.replace(/\d{4}_\d{2}_\d{2}$/, '');

test('TRIGGERING_OPERATIONS and DISTRIBUTION_OPERATIONS, and the rule in serverless.yml, name the same operations', () => {
  const prefixes = (pattern.detail as { eventName: { prefix: string }[] }).eventName.map((p) => p.prefix);
  assert.deepEqual([...prefixes].sort(), [...TRIGGERING_OPERATIONS, ...DISTRIBUTION_OPERATIONS].sort());
});

describe('events/ samples', () => {
  test('index.json describes exactly the samples present', () => {
    assert.deepEqual(Object.keys(index).sort(), files);
    for (const [file, entry] of Object.entries(index)) {
      assert.equal(typeof entry.triggers, 'boolean', file);
      assert.ok(typeof entry.description === 'string' && entry.description.length > 10, `${file}: description`);
    }
  });

  for (const file of files) {
    test(`${file} ${index[file]?.triggers ? 'matches' : 'does not match'} the rule pattern`, () => {
      assert.ok(index[file], `${file} is not in index.json`);
      assert.equal(matchesPattern(pattern, load(file)), index[file]!.triggers);
    });

    test(`${file} is a well-formed EventBridge event`, () => {
      const event = load(file);
      assert.deepEqual(Object.keys(event).sort(), ['account', 'detail', 'detail-type', 'id', 'region', 'resources', 'source', 'time', 'version']);
      assert.equal(event.version, '0');
      assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
      assert.equal(event.account, ACCOUNT);
      assert.equal(event.region, 'us-east-1');
      assert.match(event.time, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);
      assert.ok(Array.isArray(event.resources));
      assert.equal(typeof event.detail, 'object');
      if (!isCloudTrail(event)) return;

      const d = event.detail;
      assert.equal(event.source, 'aws.cloudfront');
      for (const key of [
        'eventVersion',
        'userIdentity',
        'eventTime',
        'eventSource',
        'eventName',
        'awsRegion',
        'sourceIPAddress',
        'userAgent',
        'requestParameters',
        'responseElements',
        'requestID',
        'eventID',
        'readOnly',
        'eventType',
        'managementEvent',
        'recipientAccountId',
        'eventCategory',
      ]) {
        assert.ok(key in d, `${file}: detail.${key} missing`);
      }
      assert.equal(d.eventSource, 'cloudfront.amazonaws.com');
      assert.equal(d.awsRegion, 'us-east-1');
      assert.equal(d.eventType, 'AwsApiCall');
      assert.equal(d.eventCategory, 'Management');
      assert.equal(d.managementEvent, true);
      assert.equal(d.readOnly, false);
      assert.equal(d.recipientAccountId, ACCOUNT);
      assert.equal(d.userIdentity.accountId, ACCOUNT);
      assert.equal(d.eventTime, event.time);
      if ('errorCode' in d) {
        assert.equal(typeof d.errorMessage, 'string');
        assert.equal(d.requestParameters, null, `${file}: failed calls carry no requestParameters`);
        assert.equal(d.responseElements, null);
        return;
      }
      for (const key of Object.keys(d.requestParameters)) assert.match(key, /^[a-z][A-Za-z0-9]*$/, `${file}: camelCase ${key}`);
      const name = baseName(d.eventName);
      if (name === 'TagResource') {
        assert.match(d.requestParameters.resource, new RegExp(`^arn:aws:cloudfront::${ACCOUNT}:(function|connection-function|distribution)/`));
        assert.ok(Array.isArray(d.requestParameters.tags.items));
        assert.equal(d.responseElements, null);
      } else if (name.endsWith('ConnectionFunction')) {
        // Addressed by Id: Create names it in the request, Update by the Id of its path; the summary has both.
        const summary = d.responseElements.connectionFunctionSummary;
        assert.match(summary.name, /^[a-zA-Z0-9_-]{1,64}$/);
        assert.equal(summary.connectionFunctionArn, `arn:aws:cloudfront::${ACCOUNT}:connection-function/${summary.id}`);
        assert.equal(summary.stage, 'DEVELOPMENT');
        assert.equal(d.requestParameters.name ?? d.requestParameters.id, name === 'CreateConnectionFunction' ? summary.name : summary.id);
      } else if (name === 'UpdateDistribution') {
        assert.match(d.requestParameters.id, /^E[A-Z0-9]+$/);
        assert.equal(typeof d.requestParameters.ifMatch, 'string');
      } else {
        assert.match(d.requestParameters.name, /^[a-zA-Z0-9_-]{1,64}$/);
        const summary = d.responseElements.functionSummary;
        assert.equal(summary.name, d.requestParameters.name);
        assert.equal(summary.functionMetadata.functionARN, `arn:aws:cloudfront::${ACCOUNT}:function/${summary.name}`);
        assert.equal(summary.functionMetadata.stage, name === 'PublishFunction' ? 'LIVE' : 'DEVELOPMENT');
      }
    });
  }

  test('the samples cover the scenarios the handler must tell apart', () => {
    const cloudTrail = files.map((f) => [f, load(f)] as const).filter(([, e]) => isCloudTrail(e));
    const names = cloudTrail.map(([, e]) => e.detail.eventName as string);
    assert.ok(
      names.some((n) => /\d{4}_\d{2}_\d{2}$/.test(n)),
      'a suffixed eventName',
    );
    assert.ok(
      names.some((n) => !/\d{4}_\d{2}_\d{2}$/.test(n)),
      'a plain eventName',
    );
    for (const base of [
      'CreateFunction',
      'UpdateFunction',
      'CreateConnectionFunction',
      'UpdateConnectionFunction',
      'TagResource',
      'PublishFunction',
      'UpdateDistribution',
    ]) {
      assert.ok(
        names.some((n) => baseName(n) === base),
        `a ${base} sample`,
      );
    }
    const resources = cloudTrail.map(([, e]) => e.detail.requestParameters?.resource ?? '');
    assert.ok(resources.some((r) => r.includes(':function/')) && resources.some((r) => r.includes(':distribution/')));
    assert.ok(
      resources.some((r) => r.includes(':connection-function/')),
      'a TagResource of a connection function',
    );
    // Failed calls match (the pattern ignores errorCode): the handler has to skip them.
    assert.ok(cloudTrail.some(([f, e]) => 'errorCode' in e.detail && index[f]?.triggers === true));
    // The reconciler's own PublishFunction must never come back to it.
    assert.ok(cloudTrail.filter(([, e]) => baseName(e.detail.eventName) === 'PublishFunction').every(([f]) => index[f]?.triggers === false));
    assert.ok(files.some((f) => load(f)['detail-type'] === 'Scheduled Event'));
  });
});
