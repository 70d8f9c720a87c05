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
  testCasesKeyProblem,
  THROWN_MESSAGE_MAX,
  thrownMessageLine,
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
    /expect failed at \.response\.statusCode \(expected and got a number, not equal\)/,
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
    ['[{"name":"a","event":{},"eventType":"origin-request"}]', /case "a": eventType must be viewer-request, viewer-response or connection-request/],
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

test('a reason outside the CLI quotes no value: expect by type and length, output by its length, a thrown message masked', () => {
  const token = 'Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0';
  const reason = (c: typeof request, r: TestResult, reveal = false) => {
    const v = judgeCase(c, r, 70, { reveal });
    return v.passed ? '' : v.reason;
  };
  const withToken = { ...request, expect: { request: { headers: { authorization: { value: token } } } } };
  const echoed = ok({ request: { headers: { authorization: { value: 'Bearer 0000' } } } });
  const quiet = reason(withToken, echoed);
  assert.equal(
    quiet,
    `smoke viewer-request: expect failed at .request.headers.authorization.value (expected a string of ${token.length} characters, got a string of 11 characters)`,
  );
  assert.doesNotMatch(quiet, /9f8e7d|0000/);
  // The CLI's user owns the file: there the values are shown.
  assert.match(reason(withToken, echoed, true), /expected "Bearer 9f8e7d6c5b4a39281706f5e4d3c2b1a0", got "Bearer 0000"/);
  assert.equal(
    reason(request, { ...ok({}), output: `{"token":"${token}"` }),
    `smoke viewer-request: FunctionOutput is not JSON (${token.length + 11} characters)`,
  );
  const thrown = reason(request, {
    computeUtilization: '3',
    errorMessage: `Error: rejected ${token}; cookie session=abc123def456; x-api-key: AKIAIOSFODNN7EXAMPLE\n    at handler (function.js:3:11)`,
    output: '',
    logs: [],
  });
  assert.equal(thrown, 'smoke viewer-request: the function threw: Error: rejected Bearer ***; cookie session=***; x-api-key: ***');
  assert.equal(
    reason(request, { ...ok({ request: {} }), computeUtilization: `x${token}` }),
    `smoke viewer-request: ComputeUtilization (a string of ${token.length + 1} characters) is not a number from 0 to 100`,
  );
});

test('a thrown message: its first line, at most 120 characters, tokens and cookie values masked', () => {
  assert.equal(
    thrownMessageLine('TypeError: Cannot read properties of undefined (reading "value")\n    at handler'),
    'TypeError: Cannot read properties of undefined (reading "value")',
  );
  const long = thrownMessageLine(`Error: ${'word '.repeat(60)}`);
  assert.equal(long.length, THROWN_MESSAGE_MAX);
  assert.ok(long.endsWith('…'));
  for (const [message, secret] of [
    ['bad token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl', 'eyJhbGci'],
    ['auth failed: Basic dXNlcjpwYXNzd29yZA==', 'dXNlcjpw'],
    ['Cookie: sid=s%3Aabc.def; theme=dark', 'abc.def'],
    ['{"token": "tok_live_51HxYzABCdef"}', 'tok_live'],
    ['password: hunter2', 'hunter2'],
    ['key 0123456789abcdef0123456789abcdef rejected', '0123456789abcdef'],
    [`${'x'.repeat(110)} Bearer abcdefghijklmnopqrstuvwxyz0123456789`, 'abcdefghij'],
  ] as const) {
    const line = thrownMessageLine(message);
    assert.ok(!line.includes(secret), `${message} → ${line}`);
    assert.ok(line.length <= THROWN_MESSAGE_MAX, line);
  }
});

test('ComputeUtilization 100 never passes, whatever the maximum: TestFunction may answer 100 with no error at the limit', () => {
  const v = judgeCase(request, ok({ request: {} }, '100'), 100);
  assert.equal(v.passed, false);
  assert.match(v.passed ? '' : v.reason, /ComputeUtilization 100: the function reached its compute limit/);
  assert.equal(judgeCase(request, ok({ request: {} }, '99'), 100).passed, true);
  assert.equal(judgeCase({ ...request, error: true }, { computeUtilization: '100', errorMessage: 'Error: x', output: '', logs: [] }, 100).passed, false);
});

test('test-case keys: a "." or ".." segment, a backslash, or escapes that decode to them are refused; organisation mode wants <account>/', () => {
  for (const key of ['f.json', 'team/edge/f.json', '111111111111/auth.json', 'a..b/c.json', '.hidden/f.json']) {
    assert.equal(testCasesKeyProblem(key, undefined), undefined, key);
  }
  for (const [key, why] of [
    ['../f.json', /"\." or "\.\." segment/],
    ['a/./f.json', /"\." or "\.\." segment/],
    ['a/..', /"\." or "\.\." segment/],
    ['a\\..\\f.json', /backslash/],
    ['a/%2e%2e/f.json', /segment once decoded/],
    ['a/%2E/f.json', /segment once decoded/],
    ['a%2f..%2ff.json', /segment once decoded/],
    ['a%5cf.json', /backslash/],
    ['a/%zz.json', /percent-escape that does not decode/],
  ] as const) {
    assert.match(testCasesKeyProblem(key, undefined) ?? '', why, key);
  }
  assert.equal(testCasesKeyProblem('111111111111/auth.json', '111111111111'), undefined);
  for (const key of ['222222222222/auth.json', 'auth.json', '1111111111112/auth.json', '111111111111', '%31%31%31%31%31%31%31%31%31%31%31%31/auth.json']) {
    assert.match(
      testCasesKeyProblem(key, '111111111111') ?? '',
      /outside this account's prefix: organisation mode reads a function's cases only from s3:\/\/BUCKET\/111111111111\//,
      key,
    );
  }
  assert.match(testCasesKeyProblem('111111111111/../222222222222/auth.json', '111111111111') ?? '', /segment/);
});
