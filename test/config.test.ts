import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, isOptedIn, loadConfig, nameGuard } from '../lib/config';

test('defaults', () => {
  const c = loadConfig({});
  assert.equal(c.tagKey, 'auto-publish');
  assert.equal(c.tagValue, 'true');
  assert.equal(c.dryRun, false);
  assert.equal(c.eventBusName, undefined);
  assert.equal(c.cloudFrontEndpoint, undefined);
  assert.equal(c.sweepConcurrency, 4);
  assert.deepEqual(c.allowedNames, []);
});

test('values are read and trimmed', () => {
  const c = loadConfig({
    AUTO_PUBLISH_TAG_KEY: 'team:publish',
    AUTO_PUBLISH_TAG_VALUE: 'Yes',
    DRY_RUN: ' TRUE ',
    EVENT_BUS_NAME: 'platform',
    CLOUDFRONT_ENDPOINT: 'http://127.0.0.1:4566',
    SWEEP_CONCURRENCY: '8',
    AUTO_PUBLISH_ALLOWED_NAMES: 'edge-*, auth',
  });
  assert.equal(c.tagValue, 'Yes');
  assert.equal(c.dryRun, true);
  assert.equal(c.sweepConcurrency, 8);
  assert.deepEqual(c.allowedNames, ['edge-*', 'auth']);
});

for (const [variable, value, message] of [
  ['DRY_RUN', 'maybe', /DRY_RUN: "maybe" is not true or false/],
  ['DRY_RUN', '1', /DRY_RUN/],
  ['SWEEP_CONCURRENCY', '0', /SWEEP_CONCURRENCY: "0" is not a whole number from 1 to 64/],
  ['SWEEP_CONCURRENCY', 'four', /SWEEP_CONCURRENCY/],
  ['SWEEP_CONCURRENCY', '2.5', /SWEEP_CONCURRENCY/],
  ['AUTO_PUBLISH_TAG_KEY', 'a'.repeat(129), /AUTO_PUBLISH_TAG_KEY/],
  ['AUTO_PUBLISH_TAG_KEY', 'bad<key>', /AUTO_PUBLISH_TAG_KEY/],
  ['AUTO_PUBLISH_TAG_VALUE', 'x'.repeat(257), /AUTO_PUBLISH_TAG_VALUE/],
  ['CLOUDFRONT_ENDPOINT', 'not a url', /CLOUDFRONT_ENDPOINT: "not a url" is not a URL/],
  ['CLOUDFRONT_ENDPOINT', 'ftp://x', /CLOUDFRONT_ENDPOINT/],
  ['EVENT_BUS_NAME', 'bad bus!', /EVENT_BUS_NAME/],
  ['AUTO_PUBLISH_ALLOWED_NAMES', 'ok,../etc', /AUTO_PUBLISH_ALLOWED_NAMES: "..\/etc"/],
] as const) {
  test(`${variable}=${value.slice(0, 20)} stops start-up naming the variable`, () => {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, variable);
        assert.match(error.message, message);
        return true;
      },
    );
  });
}

// A blank opt-in value opted in every function tagged `auto-publish=`; a padded key or value named a
// tag nobody could tell apart from the intended one in the console.
for (const variable of ['AUTO_PUBLISH_TAG_KEY', 'AUTO_PUBLISH_TAG_VALUE']) {
  for (const value of ['', ' ', '\u00a0', ' true', 'true ', ' auto-publish ']) {
    test(`${variable}=${JSON.stringify(value)} (blank, or blanks around it) stops start-up naming the variable`, () => {
      assert.throws(
        () => loadConfig({ [variable]: value }),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, String(error));
          assert.equal(error.variable, variable);
          assert.match(error.message, new RegExp(`^${variable}: .*(blank|leading or trailing blanks)`));
          return true;
        },
      );
    });
  }
}

test('an empty tag value never opts a function in, whatever the config holds', () => {
  for (const tagValue of ['', ' ']) {
    const config = { tagKey: 'auto-publish', tagValue };
    for (const tag of ['', ' ', '\t']) assert.equal(isOptedIn(config, { 'auto-publish': tag }), false, `${JSON.stringify(tagValue)} vs ${JSON.stringify(tag)}`);
  }
  assert.equal(isOptedIn(loadConfig({}), { 'auto-publish': '' }), false);
});

test('opt-in compares the value case-insensitively after trimming, under the configured key only', () => {
  const c = loadConfig({});
  assert.equal(isOptedIn(c, { 'auto-publish': ' True ' }), true);
  assert.equal(isOptedIn(c, { 'auto-publish': 'false' }), false);
  assert.equal(isOptedIn(c, { 'Auto-Publish': 'true' }), false, 'tag keys are case-sensitive');
  assert.equal(isOptedIn(c, {}), false);
});

test('the name guard: * matches a run of name characters, nothing else', () => {
  const allowed = nameGuard(loadConfig({ AUTO_PUBLISH_ALLOWED_NAMES: 'edge-*,auth' }));
  assert.equal(allowed('edge-redirect'), true);
  assert.equal(allowed('edge-'), true);
  assert.equal(allowed('auth'), true);
  assert.equal(allowed('auth2'), false);
  assert.equal(allowed('my-edge-x'), false);
  assert.equal(nameGuard(loadConfig({}))('anything'), true);
});

test('EVENT_BUS_NAME takes a name, not an ARN (IAM is scoped to event-bus/<name>)', () => {
  assert.equal(loadConfig({ EVENT_BUS_NAME: 'platform-events' }).eventBusName, 'platform-events');
  assert.throws(() => loadConfig({ EVENT_BUS_NAME: 'arn:aws:events:us-east-1:123456789012:event-bus/x' }), /EVENT_BUS_NAME: .*not an ARN/);
});

// A value made only of separators used to parse to an empty list, and an empty list means "no guard":
// the guard turned itself off. A non-empty value that holds no pattern is a typo, never "allow all".
for (const value of [',', ' , ', ',,,', '\t,\n']) {
  test(`AUTO_PUBLISH_ALLOWED_NAMES=${JSON.stringify(value)} (separators only) stops start-up instead of disabling the guard`, () => {
    assert.throws(
      () => loadConfig({ AUTO_PUBLISH_ALLOWED_NAMES: value }),
      (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.equal(error.variable, 'AUTO_PUBLISH_ALLOWED_NAMES');
        assert.match(error.message, /holds no name pattern/);
        return true;
      },
    );
  });
}

test('AUTO_PUBLISH_ALLOWED_NAMES empty or blank still means no guard', () => {
  assert.deepEqual(loadConfig({ AUTO_PUBLISH_ALLOWED_NAMES: '' }).allowedNames, []);
  assert.deepEqual(loadConfig({ AUTO_PUBLISH_ALLOWED_NAMES: '   ' }).allowedNames, []);
});

test('SWEEP_RESERVE_MS, CLOUDFRONT_MAX_ATTEMPTS and CLOUDFRONT_MAX_CALLS_PER_SECOND: defaults, values, and what is refused', () => {
  const defaults = loadConfig({});
  assert.equal(defaults.sweepReserveMs, 10_000);
  assert.equal(defaults.maxAttempts, 8);
  assert.equal(defaults.maxCallsPerSecond, undefined, 'unset: no client-side pacing');
  const set = loadConfig({ SWEEP_RESERVE_MS: '0', CLOUDFRONT_MAX_ATTEMPTS: '20', CLOUDFRONT_MAX_CALLS_PER_SECOND: '24' });
  assert.deepEqual([set.sweepReserveMs, set.maxAttempts, set.maxCallsPerSecond], [0, 20, 24]);
  for (const [variable, value] of [
    ['SWEEP_RESERVE_MS', '-1'],
    ['SWEEP_RESERVE_MS', '900001'],
    ['SWEEP_RESERVE_MS', '10s'],
    ['CLOUDFRONT_MAX_ATTEMPTS', '0'],
    ['CLOUDFRONT_MAX_ATTEMPTS', '21'],
    ['CLOUDFRONT_MAX_ATTEMPTS', 'eight'],
    ['CLOUDFRONT_MAX_CALLS_PER_SECOND', '0'],
    ['CLOUDFRONT_MAX_CALLS_PER_SECOND', '1001'],
    ['CLOUDFRONT_MAX_CALLS_PER_SECOND', '2.5'],
  ] as const) {
    assert.throws(
      () => loadConfig({ [variable]: value }),
      (e: unknown) => e instanceof ConfigError && e.variable === variable,
      `${variable}=${value}`,
    );
  }
});
