/**
 * Logs never contain function code, nor the whole event when it carries code: CloudTrail normally
 * redacts `functionCode` (HIDDEN_DUE_TO_SECURITY_REASONS), but the handler must not depend on it.
 * Each event below carries a recognisable code string; every log line of every outcome (published,
 * skipped, failed, ignored, rejected) is checked, also with Powertools' event logging switched on
 * (POWERTOOLS_LOGGER_LOG_EVENT=true, in a child process: log-event-on.test.ts): the handlers' middleware
 * never logs the event.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessDenied } from '@aws-sdk/client-cloudfront';
import { fakeCloudFront, type FakeCloudFront } from '../support/fake-cloudfront';
import { apiCall } from '../support/events';
import { captureLogs, eventHandlerWith, lambdaContext } from '../support/lambda';

const MARK = 'SECRET-CODE-4b1d9e';
const CODE = `function handler(event) { /* ${MARK} */ return event.request; }`;
let cf: FakeCloudFront;

const update = (name: unknown, extra: Record<string, unknown> = {}) =>
  apiCall('UpdateFunction2020_05_31', {
    requestParameters: { name, ifMatch: 'EOLD', functionConfig: { comment: '', runtime: 'cloudfront-js-2.0' }, functionCode: CODE },
    responseElements: null,
    ...extra,
  });

const EVENTS: Record<string, unknown> = {
  published: update('opted'),
  'skipped (not opted in)': update('plain'),
  'failed (AccessDenied)': update('denied'),
  gone: update('missing'),
  'ignored (failed call)': update('opted', { errorCode: 'AccessDenied', errorMessage: CODE }),
  'ignored (other account)': apiCall(
    'UpdateFunction',
    { requestParameters: { name: 'opted', functionCode: CODE }, recipientAccountId: '999999999999' },
    { account: '999999999999' },
  ),
  'rejected (invalid name)': update('bad name'),
  'rejected (detail is the record as a string, code first)': {
    source: 'aws.cloudfront',
    'detail-type': 'AWS API Call via CloudTrail',
    detail: JSON.stringify({ functionCode: CODE, name: 'opted' }),
  },
  'rejected (the event is the code itself)': CODE,
  'rejected (event is a JSON string)': JSON.stringify(update('opted')),
};

beforeEach(() => {
  cf = fakeCloudFront({
    opted: { tags: { 'auto-publish': 'true' }, devEtag: 'E2', liveEtag: 'E1' },
    plain: { tags: {}, devEtag: 'E2' },
    denied: { tags: { 'auto-publish': 'true' }, devEtag: 'E2' },
  });
  cf.hooks.PublishFunction = (input) => {
    if (input.Name === 'denied')
      throw new AccessDenied({
        message: 'User: arn:aws:sts::123456789012:assumed-role/x is not authorized to perform: cloudfront:PublishFunction',
        $metadata: { httpStatusCode: 403 },
      });
  };
});
afterEach(() => cf.restore());

// test/security/log-event-on.test.ts runs this file again with POWERTOOLS_LOGGER_LOG_EVENT=true.
const logEvent = process.env.POWERTOOLS_LOGGER_LOG_EVENT === 'true';
describe(`no log line carries function code (Powertools event logging ${logEvent ? 'on, as POWERTOOLS_LOGGER_LOG_EVENT=true' : 'off'})`, () => {
  for (const [label, event] of Object.entries(EVENTS)) {
    test(label, async () => {
      const r = await captureLogs(async () => eventHandlerWith()(event, lambdaContext()));
      assert.ok(r.lines.length > 0, 'the handler logged something');
      for (const line of r.lines) {
        const text = JSON.stringify(line);
        assert.ok(!text.includes(MARK), `a log line carries the code: ${text.slice(0, 300)}`);
        assert.ok(!text.includes('requestParameters'), `a log line carries the event: ${text.slice(0, 300)}`);
      }
      // An error can reach Lambda's own log (the runtime prints it): it must not carry the code either.
      if (r.error) assert.ok(!String((r.error as Error).message).includes(MARK), `the error carries the code: ${(r.error as Error).message}`);
    });
  }
});
