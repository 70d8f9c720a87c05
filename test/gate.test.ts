/** The gate's pure part: smoke events, the user's test cases, and what blocks a publish. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  judgeCase,
  parseS3Url,
  parseTestCases,
  withEventTypes,
  smokeCase,
  smokeRequestEvent,
  smokeResponseEvent,
  TestCasesError,
  verdictOf,
  type TestResult,
} from '../lib/gate';

const ok = (output: unknown, computeUtilization = '12'): TestResult => ({ computeUtilization, errorMessage: '', output: JSON.stringify(output), logs: [] });
const request = smokeCase('viewer-request');
const response = smokeCase('viewer-response');

test('smoke events are realistic: GET /index.html with host, user-agent, accept, a query string, a cookie and a viewer IP; the response adds a 200 with headers', () => {
  const req = smokeRequestEvent() as { version: string; context: { eventType: string }; viewer: { ip: string }; request: Record<string, any> };
  assert.equal(req.version, '1.0');
  assert.equal(req.context.eventType, 'viewer-request');
  assert.match(req.viewer.ip, /^\d+\.\d+\.\d+\.\d+$/);
  assert.equal(req.request.method, 'GET');
  assert.equal(req.request.uri, '/index.html');
  for (const h of ['host', 'user-agent', 'accept']) assert.equal(typeof req.request.headers[h].value, 'string', h);
  assert.ok(Object.keys(req.request.querystring).length > 0);
  assert.ok(Object.keys(req.request.cookies).length > 0);
  const res = smokeResponseEvent() as {
    context: { eventType: string };
    request: unknown;
    response: { statusCode: number; headers: Record<string, { value: string }> };
  };
  assert.equal(res.context.eventType, 'viewer-response');
  assert.deepEqual(res.request, req.request);
  assert.equal(res.response.statusCode, 200);
  assert.ok(Object.keys(res.response.headers).length > 0);
});

test('what blocks: a throw, output that is not JSON or not shaped for the event type, a failed expect, compute above the maximum', () => {
  const blocked = (c: typeof request, r: TestResult, max = 70) => {
    const v = judgeCase(c, r, max);
    assert.equal(v.passed, false);
    return v.passed ? '' : v.reason;
  };
  assert.match(
    blocked(request, { computeUtilization: '5', errorMessage: 'TypeError: x is undefined', output: '', logs: [] }),
    /threw: TypeError: x is undefined/,
  );
  assert.match(blocked(request, { ...ok({}), output: 'not json' }), /not JSON/);
  assert.match(blocked(request, ok({ something: {} })), /not shaped for viewer-request/);
  assert.match(blocked(response, ok({ request: {} })), /not shaped for viewer-response/);
  assert.match(
    blocked({ ...request, expect: { response: { statusCode: 302 } } }, ok({ response: { statusCode: 200 } })),
    /expect failed at \.response\.statusCode \(expected 302, got 200\)/,
  );
  assert.match(blocked(request, ok({ request: {} }, '71')), /ComputeUtilization 71 is above the maximum 70/);
  assert.match(blocked(request, ok({ request: {} }, '')), /ComputeUtilization "" is not a number/);
  assert.match(blocked({ ...request, error: true }, ok({ request: {} })), /expected the function to throw/);
});

test('what passes: shaped output, a redirect from a viewer request, a matching expect, an expected throw, compute at the maximum', () => {
  assert.equal(judgeCase(request, ok({ request: { uri: '/index.html' } }), 70).passed, true);
  assert.equal(judgeCase(request, ok({ response: { statusCode: 302 } }), 70).passed, true);
  assert.equal(judgeCase({ ...request, expect: { response: { statusCode: 302 } } }, ok({ response: { statusCode: 302, headers: {} } }), 70).passed, true);
  assert.equal(judgeCase({ ...request, error: true }, { computeUtilization: '3', errorMessage: 'Error: nope', output: '', logs: [] }, 70).passed, true);
  assert.equal(judgeCase(response, ok({ response: {} }, '70'), 70).passed, true);
});

test('a group of alternatives (a function no distribution uses) passes when one passes; every group must pass', () => {
  const pass = judgeCase(response, ok({ response: {} }), 70);
  const fail = judgeCase(request, ok({ nope: 1 }), 70);
  assert.equal(verdictOf([[fail, pass]]).passed, true);
  const v = verdictOf([[pass], [fail]]);
  assert.equal(v.passed, false);
  assert.equal(v.passed ? '' : v.testCase, 'smoke viewer-request');
  const both = verdictOf([[fail, fail]]);
  assert.match(both.passed ? '' : both.reason, /no event type passed/);
});

test('user test cases: parsed with defaults, and anything malformed names what is wrong', () => {
  const cases = withEventTypes(
    parseTestCases(
      JSON.stringify([
        { name: 'redirects', event: { request: {} }, expect: { response: { statusCode: 302 } } },
        { name: 'throws on bad input', eventType: 'viewer-response', event: { response: {} }, error: true },
      ]),
    ),
    'viewer-request',
  );
  assert.deepEqual(
    cases.map((c) => [c.name, c.eventType, c.error ?? false]),
    [
      ['redirects', 'viewer-request', false],
      ['throws on bad input', 'viewer-response', true],
    ],
  );
  for (const [text, message] of [
    ['{', /not valid JSON/],
    ['{}', /not a non-empty JSON array/],
    ['[]', /not a non-empty JSON array/],
    ['[1]', /case 1 is not an object/],
    ['[{"event":{}}]', /case 1 has no name/],
    ['[{"name":"a"}]', /case "a" has no event object/],
    ['[{"name":"a","event":{},"eventType":"origin-request"}]', /case "a": eventType must be viewer-request or viewer-response/],
  ] as const) {
    assert.throws(
      () => parseTestCases(text),
      (e: unknown) => e instanceof TestCasesError && message.test(e.message),
      text,
    );
  }
  assert.throws(() => withEventTypes(parseTestCases('[{"name":"a","event":{}}]'), undefined), /has no eventType, and the function's is not known/);
  assert.equal(
    withEventTypes(parseTestCases('[{"name":"a","event":{"context":{"eventType":"viewer-response"}}}]'), 'viewer-request')[0]?.eventType,
    'viewer-response',
  );
});

test('s3:// URLs', () => {
  assert.deepEqual(parseS3Url('s3://my-bucket/tests/edge.json'), { bucket: 'my-bucket', key: 'tests/edge.json' });
  assert.equal(parseS3Url('https://my-bucket.s3.amazonaws.com/x.json'), undefined);
  assert.equal(parseS3Url('s3://b/'), undefined);
});
