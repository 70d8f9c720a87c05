/**
 * The publish gate, its pure part: which test events a function gets, and what a TestFunction
 * result says about them. Publishing is all at once (every cache behaviour that uses the function
 * switches to the new code), and a function that throws answers every viewer with a 503, so the
 * gate runs before every publish and blocks on any doubt (docs/cloudfront-api.md#testfunction).
 *
 * The shell (lib/reconcile.ts) calls TestFunction with the ETag about to be published; what passes
 * here is exactly what goes live.
 */

import { AutoPublishError } from './errors';

/** What a CloudFront Function (the ordinary kind) runs on: what distributions associate it with. */
export type EventType = 'viewer-request' | 'viewer-response';
export const EVENT_TYPES: readonly EventType[] = ['viewer-request', 'viewer-response'];

/**
 * What a connection function runs on: the connection request of a mutual-TLS distribution, and
 * nothing else (one per distribution, associated with the distribution, not a cache behaviour).
 */
export const CONNECTION_EVENT_TYPE = 'connection-request';
/** The event type of a test case, of either kind of function. */
export type CaseEventType = EventType | typeof CONNECTION_EVENT_TYPE;
export const CASE_EVENT_TYPES: readonly CaseEventType[] = [...EVENT_TYPES, CONNECTION_EVENT_TYPE];

/** The tags a function may carry to steer its own gate. */
export const EVENT_TYPE_TAG = 'auto-publish-event-type';
export const TEST_CASES_TAG = 'auto-publish-tests';

/** One test case: a user's, from S3, or a built-in smoke event. */
export interface TestCase {
  readonly name: string;
  readonly eventType: CaseEventType;
  readonly event: unknown;
  /**
   * A partial deep match of the function's output, e.g. {"response": {"statusCode": 302}}. For a
   * connection-request case, "allow" or "deny": the decision the function must make.
   */
  readonly expect?: unknown;
  /** The function is expected to throw. */
  readonly error?: boolean;
}

/** What TestFunction answered, as the gateway hands it over. */
export interface TestResult {
  readonly computeUtilization: string | undefined;
  readonly errorMessage: string | undefined;
  readonly output: string | undefined;
  readonly logs: readonly string[];
}

interface CaseRun {
  readonly testCase: string;
  readonly eventType: CaseEventType;
  readonly computeUtilization: number | undefined;
  readonly logs: readonly string[];
}
export type CaseVerdict = (CaseRun & { readonly passed: true }) | (CaseRun & { readonly passed: false; readonly reason: string });

/**
 * The gate's verdict on one version. `blocked` names the case and what failed; a group of
 * alternatives (both event types, for a function no distribution uses) passes when one passes.
 */
export type GateVerdict =
  | { readonly passed: true; readonly cases: readonly CaseVerdict[] }
  | {
      readonly passed: false;
      readonly reason: string;
      readonly testCase: string;
      readonly computeUtilization: number | undefined;
      /** The cases run before the verdict (none when the cases themselves could not be found). */
      readonly cases: readonly CaseVerdict[];
    };

/**
 * A realistic viewer request: GET /index.html with host, user-agent, accept, a query string, a
 * cookie and a viewer IP (the CloudFront Functions event structure, docs/cloudfront-api.md#testfunction).
 */
export function smokeRequestEvent(): Record<string, unknown> {
  return {
    version: '1.0',
    context: {
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: 'viewer-request',
      requestId: 'cf-autopublish-smoke',
    },
    viewer: { ip: '198.51.100.10' },
    request: {
      method: 'GET',
      uri: '/index.html',
      querystring: { lang: { value: 'en' }, utm_source: { value: 'smoke-test' } },
      headers: {
        host: { value: 'www.example.com' },
        'user-agent': { value: 'Mozilla/5.0 (X11; Linux x86_64) cf-autopublish-smoke' },
        accept: { value: 'text/html,application/xhtml+xml' },
      },
      cookies: { session: { value: 'abc123' } },
    },
  };
}

/** The same request, answered 200 with headers, as a viewer-response function sees it. */
export function smokeResponseEvent(): Record<string, unknown> {
  const event = smokeRequestEvent();
  return {
    ...event,
    context: { ...(event.context as object), eventType: 'viewer-response' },
    response: {
      statusCode: 200,
      statusDescription: 'OK',
      headers: {
        'content-type': { value: 'text/html; charset=utf-8' },
        'content-length': { value: '1024' },
        'cache-control': { value: 'max-age=60' },
      },
      cookies: {},
    },
  };
}

/**
 * A realistic connection request, as a connection function sees it during the TLS handshake of a
 * mutual-TLS distribution: a client certificate that passed CloudFront's own validation (subject,
 * issuer, serial number, validity and SHA-256 fingerprint), the viewer's IP, and the revocation
 * check's result (the connection-function event structure of the Developer Guide,
 * docs/cloudfront-api.md#connection-functions). A function may allow or deny it: either is a decision.
 */
export function smokeConnectionEvent(): Record<string, unknown> {
  return {
    version: '1.0',
    context: {
      distributionDomainName: 'd111111abcdef8.cloudfront.net',
      distributionId: 'EDFDVBD6EXAMPLE',
      eventType: CONNECTION_EVENT_TYPE,
      connectionId: 'cf-autopublish-smoke',
    },
    // The guide's connection object names these at its top (docs/cloudfront-api.md#connection-functions);
    // `context` and `viewer` repeat them in the viewer events' shape, for code written either way.
    connectionId: 'cf-autopublish-smoke',
    distributionId: 'EDFDVBD6EXAMPLE',
    endpoint: 'd111111abcdef8.cloudfront.net',
    clientIp: '198.51.100.10',
    viewer: { ip: '198.51.100.10' },
    clientCertificate: {
      certificates: {
        leaf: {
          subject: 'CN=device-0042.example.com,OU=Devices,O=Example Corp,C=US',
          issuer: 'CN=Example Corp Device CA,O=Example Corp,C=US',
          serialNumber: '3f:9a:12:7c:00:5e:b4:21:8d:6e:0f:41:a2:cc:19:77',
          validity: { notBefore: '2026-01-01T00:00:00Z', notAfter: '2027-01-01T00:00:00Z' },
          sha256Fingerprint: '9c:2b:47:e1:58:0d:a3:6f:11:c8:72:4e:b9:05:3a:d6:7e:21:94:c0:5b:8f:e3:12:6a:d4:0c:77:39:b2:f5:18',
        },
      },
      revocationCheck: { status: 'GOOD', method: 'OCSP' },
    },
  };
}

export function smokeCase(eventType: CaseEventType): TestCase {
  if (eventType === CONNECTION_EVENT_TYPE) return { name: 'smoke connection-request', eventType, event: smokeConnectionEvent() };
  return eventType === 'viewer-request'
    ? { name: 'smoke viewer-request', eventType, event: smokeRequestEvent() }
    : { name: 'smoke viewer-response', eventType, event: smokeResponseEvent() };
}

/** A test-case file we cannot use: the gate blocks, naming what is wrong (fail closed). */
export class TestCasesError extends AutoPublishError {
  override name = 'TestCasesError';
  readonly retryable = false;
}

/** A user's case as written: its event type may be left to the function's own. */
export type WrittenCase = Omit<TestCase, 'eventType'> & { readonly eventType: CaseEventType | undefined };

/**
 * Parses a user's test-case file: a JSON array of {name, eventType?, event, expect?, error?}. A case
 * without eventType takes its event's context.eventType, or is left for `withEventTypes`. Anything
 * malformed throws TestCasesError naming the case: the gate then blocks (fail closed).
 */
export function parseTestCases(text: string): WrittenCase[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    // Node's message quotes the text around the error, and the text may hold a token: the position only.
    const at = /position (\d+)/.exec(error instanceof Error ? error.message : '')?.[1];
    throw new TestCasesError(`not valid JSON${at === undefined ? '' : ` (at position ${at})`}`);
  }
  if (!Array.isArray(parsed) || parsed.length === 0) throw new TestCasesError('not a non-empty JSON array of test cases');
  return parsed.map((raw: unknown, index): WrittenCase => {
    const at = `case ${index + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new TestCasesError(`${at} is not an object`);
    const c = raw as Record<string, unknown>;
    if (typeof c.name !== 'string' || c.name.trim() === '') throw new TestCasesError(`${at} has no name`);
    const name = c.name.slice(0, 128);
    if (typeof c.event !== 'object' || c.event === null || Array.isArray(c.event)) throw new TestCasesError(`case "${name}" has no event object`);
    const declared = c.eventType ?? (c.event as { context?: { eventType?: unknown } }).context?.eventType;
    if (declared !== undefined && !CASE_EVENT_TYPES.includes(declared as CaseEventType))
      throw new TestCasesError(`case "${name}": eventType must be viewer-request, viewer-response or ${CONNECTION_EVENT_TYPE}`);
    if (declared === CONNECTION_EVENT_TYPE && c.expect !== undefined && !isDecision(c.expect))
      throw new TestCasesError(`case "${name}": a ${CONNECTION_EVENT_TYPE} case expects "allow" or "deny"`);
    if (c.error !== undefined && typeof c.error !== 'boolean') throw new TestCasesError(`case "${name}": error must be true or false`);
    return {
      name,
      eventType: declared as CaseEventType | undefined,
      event: c.event,
      ...(c.expect !== undefined ? { expect: c.expect } : {}),
      ...(c.error ? { error: true } : {}),
    };
  });
}

/** Gives every case an event type: its own, else the function's (`fallback`); none is an error. */
export function withEventTypes(cases: readonly WrittenCase[], fallback: CaseEventType | undefined): TestCase[] {
  return cases.map((c) => {
    const eventType = c.eventType ?? fallback;
    if (!eventType) throw new TestCasesError(`case "${c.name}" has no eventType, and the function's is not known (tag it ${EVENT_TYPE_TAG}, or associate it)`);
    return { ...c, eventType };
  });
}

/** "s3://bucket/key.json" → { bucket, key }; undefined when the tag is not such a URL. */
export function parseS3Url(value: string): { bucket: string; key: string } | undefined {
  const match = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])\/(.+)$/.exec(value.trim());
  return match ? { bucket: match[1] as string, key: match[2] as string } : undefined;
}

/**
 * Why a test-case key must not be read, or undefined. Refused before any read: a `.` or `..` segment
 * or a backslash, as written or once percent-escapes are decoded (a proxy, a mirror or a later S3
 * client may normalise them, and then the key names another object); and, in organisation mode
 * (`account` given), any key outside `<account>/`, so that one member's function never runs another
 * member's cases (the layout is in docs/organization-mode.md).
 */
export function testCasesKeyProblem(key: string, account: string | undefined): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(key);
  } catch {
    return `key ${JSON.stringify(key.slice(0, 200))} has a percent-escape that does not decode`;
  }
  for (const form of key === decoded ? [key] : [key, decoded]) {
    if (form.includes('\\')) return `key ${JSON.stringify(key.slice(0, 200))} holds a backslash`;
    if (form.split('/').some((segment) => segment === '.' || segment === '..')) {
      return `key ${JSON.stringify(key.slice(0, 200))} holds a "." or ".." segment${form === key ? '' : ' once decoded'}`;
    }
  }
  if (account !== undefined && !key.startsWith(`${account}/`)) {
    return `key ${JSON.stringify(key.slice(0, 200))} is outside this account's prefix: organisation mode reads a function's cases only from s3://BUCKET/${account}/…`;
  }
  return undefined;
}

/** How a verdict may speak of what it saw. */
export interface JudgeOptions {
  /**
   * Quote expected values, the function's output and its thrown message in full. Only for
   * `cf-autopublish test`, whose user owns the cases; a reason anywhere else names the case, the path
   * and types or lengths only, since it lands in log lines and announcements.
   */
  readonly reveal?: boolean;
}

/** The result of one case against `maxCompute` (1–100). */
export function judgeCase(testCase: TestCase, result: TestResult, maxCompute: number, options: JudgeOptions = {}): CaseVerdict {
  const computeUtilization = parseUtilization(result.computeUtilization);
  const run = { testCase: testCase.name, eventType: testCase.eventType, computeUtilization, logs: result.logs };
  const fail = (reason: string): CaseVerdict => ({ ...run, passed: false, reason: `${testCase.name}: ${reason}` });
  const reveal = options.reveal === true;
  const threw = result.errorMessage !== undefined && result.errorMessage.trim() !== '';
  if (testCase.error) {
    if (!threw) return fail('expected the function to throw, it returned');
  } else if (testCase.eventType === CONNECTION_EVENT_TYPE) {
    if (threw) return fail(`the function threw: ${reveal ? oneLine(result.errorMessage as string) : thrownMessageLine(result.errorMessage as string)}`);
    // A deny is a decision, as good as an allow; only a case that expects one decision holds the other against it.
    const decision = connectionDecision(result.output);
    if (decision === undefined)
      return fail(`the function made no decision: it must call allow or deny (ConnectionFunctionOutput of ${(result.output ?? '').length} characters)`);
    if (testCase.expect !== undefined && testCase.expect !== decision) return fail(`expected ${String(testCase.expect)}, the function decided ${decision}`);
  } else {
    if (threw) return fail(`the function threw: ${reveal ? oneLine(result.errorMessage as string) : thrownMessageLine(result.errorMessage as string)}`);
    const shape = testCase.eventType === 'viewer-request' ? 'request' : 'response';
    let output: unknown;
    try {
      output = JSON.parse(result.output ?? '');
    } catch {
      return fail(`FunctionOutput is not JSON (${(result.output ?? '').length} characters)`);
    }
    const wrapped = output as Record<string, unknown> | null;
    // A viewer-request function may answer with a response (a redirect): both are valid outputs there.
    const allowed = shape === 'request' ? ['request', 'response'] : ['response'];
    if (typeof wrapped !== 'object' || wrapped === null || !allowed.some((k) => typeof wrapped[k] === 'object' && wrapped[k] !== null)) {
      return fail(`FunctionOutput is not shaped for ${testCase.eventType} (no "${shape}" object)`);
    }
    if (testCase.expect !== undefined) {
      const mismatch = partialMismatch(testCase.expect, output, '', reveal);
      if (mismatch !== undefined) return fail(`expect failed at ${mismatch}`);
    }
  }
  if (computeUtilization === undefined) return fail(`ComputeUtilization ${utilizationText(result.computeUtilization)} is not a number from 0 to 100`);
  if (computeUtilization > maxCompute) return fail(`ComputeUtilization ${computeUtilization} is above the maximum ${maxCompute}`);
  // 100 is the limit itself: TestFunction may answer "100" with no error for a function that ran out of
  // compute (docs/cloudfront-api.md#testfunction), so not even a maximum of 100 lets it through.
  if (computeUtilization >= 100) return fail('ComputeUtilization 100: the function reached its compute limit');
  return { ...run, passed: true };
}

/**
 * Every group must pass; within a group (the alternatives for a function no distribution uses) one
 * passing case is enough. The first failure explains a block.
 */
export function verdictOf(groups: readonly (readonly CaseVerdict[])[]): GateVerdict {
  const cases: CaseVerdict[] = [];
  for (const group of groups) {
    const passing = group.find((c) => c.passed);
    if (!passing) {
      const failed = group[0] as Extract<CaseVerdict, { passed: false }>;
      const reason = group.length > 1 ? `no event type passed: ${group.map((c) => (c.passed ? '' : c.reason)).join('; ')}` : failed.reason;
      return { passed: false, reason, testCase: failed.testCase, computeUtilization: failed.computeUtilization, cases: [...cases, ...group] };
    }
    cases.push(...group);
  }
  return { passed: true, cases };
}

export type Decision = 'allow' | 'deny';

const isDecision = (value: unknown): value is Decision => value === 'allow' || value === 'deny';

/** Where an output may name the decision (docs/cloudfront-api.md#connection-functions: its shape is unconfirmed). */
const DECISION_KEYS = ['action', 'decision', 'result', 'status'];

/**
 * The decision a TestConnectionFunction output records, or undefined when it records none. How the
 * output spells it is documented nowhere we could read, so every plausible reading is accepted: the
 * bare word (`allow`, or the JSON string `"allow"`), or an object naming it under one of
 * DECISION_KEYS, at its top or inside `connection` or `response` (`{"connection":{"action":"deny"}}`).
 * Anything else, an empty output included, is no decision.
 */
export function connectionDecision(output: string | undefined): Decision | undefined {
  const text = (output ?? '').trim();
  const word = (value: unknown): Decision | undefined => {
    const w = typeof value === 'string' ? value.trim().toLowerCase() : undefined;
    if (w === 'allow' || w === 'allowed') return 'allow';
    if (w === 'deny' || w === 'denied') return 'deny';
    return undefined;
  };
  const bare = word(text);
  if (bare) return bare;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  const named = (value: unknown): Decision | undefined => {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return word(value);
    const o = value as Record<string, unknown>;
    for (const key of DECISION_KEYS) {
      const found = word(o[key]);
      if (found) return found;
    }
    return undefined;
  };
  const o = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
  return named(parsed) ?? (o ? (named(o.connection) ?? named(o.response)) : undefined);
}

function parseUtilization(raw: string | undefined): number | undefined {
  if (raw === undefined || !/^\d{1,3}(\.\d+)?$/.test(raw.trim())) return undefined;
  const value = Number(raw);
  return value >= 0 && value <= 100 ? value : undefined;
}

/**
 * Where `actual` fails to contain `expected` (objects: every key of expected; anything else: equal).
 * Unless `reveal`, the values are described by type and length only.
 */
function partialMismatch(expected: unknown, actual: unknown, path: string, reveal: boolean): string | undefined {
  if (typeof expected === 'object' && expected !== null && !Array.isArray(expected)) {
    if (typeof actual !== 'object' || actual === null || Array.isArray(actual)) return path || '(root)';
    for (const [key, value] of Object.entries(expected)) {
      const found = partialMismatch(value, (actual as Record<string, unknown>)[key], `${path}.${key}`, reveal);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || actual.length !== expected.length) return path || '(root)';
    for (let i = 0; i < expected.length; i++) {
      const found = partialMismatch(expected[i], actual[i], `${path}[${i}]`, reveal);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (Object.is(expected, actual)) return undefined;
  const at = path || '(root)';
  if (reveal) return `${at} (expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual) ?? 'nothing'})`;
  const [wanted, got] = [shapeOf(expected), shapeOf(actual)];
  return wanted === got ? `${at} (expected and got ${wanted}, not equal)` : `${at} (expected ${wanted}, got ${got})`;
}

/** A value by its type and size, never its content. */
function shapeOf(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

/** A ComputeUtilization that is not a number, shown only when it is short and plain. */
function utilizationText(raw: string | undefined): string {
  if (raw === undefined) return 'null';
  return /^[\d.\s-]{0,12}$/.test(raw) ? JSON.stringify(raw) : `(a string of ${raw.length} characters)`;
}

const oneLine = (text: string) => text.replace(/\s+/g, ' ').trim().slice(0, 300);

/** The longest thrown message a reason quotes outside the CLI. */
export const THROWN_MESSAGE_MAX = 120;

/**
 * A function's thrown message as a log line or an announcement may carry it: the first line only,
 * control characters blanked, anything that looks like a token or a cookie value masked, then cut to
 * THROWN_MESSAGE_MAX characters. A function that echoes its input (`throw new Error('bad auth ' +
 * header)`) would otherwise copy a case's bearer token into the warn line.
 */
export function thrownMessageLine(message: string): string {
  // Bounded before the patterns run: a message may be as long as the function likes.
  const first = (message.trim().split(/\r\n|\r|\n/, 1)[0] ?? '').slice(0, 2000).replace(/\p{Cc}/gu, ' ');
  const masked = first
    // Authorization schemes: "Bearer abc…", "Basic dXNl…".
    .replace(/\b(Bearer|Basic|Digest|Token|Negotiate|AWS4-HMAC-SHA256)\s+[^\s,;'"]+/gi, '$1 ***')
    // JSON Web Tokens.
    .replace(/\beyJ[\w-]*\.[\w-]*(?:\.[\w-]*)?/g, '***')
    // name=value pairs: cookies, query strings, Set-Cookie.
    .replace(/([\w.-]+)=("[^"]*"|[^\s;,&'"]+)/g, '$1=***')
    // "token": "…", password: …, x-api-key: … (a name that says it holds a secret).
    .replace(
      /\b([\w-]*(?:token|secret|passw(?:or)?d|pwd|auth[\w-]*|cookie|session[\w-]*|api[_-]?key|signature|credential)s?)(["']?\s*:\s*["']?)([^\s"',;}]+)/gi,
      '$1$2***',
    )
    // Long opaque strings of letters and digits (keys, hex or base64 tokens).
    .replace(/[A-Za-z0-9+/_-]{20,}={0,2}/g, (run) => (/\d/.test(run) && /[A-Za-z]/.test(run) ? '***' : run));
  const line = masked.replace(/\s+/g, ' ').trim();
  return line.length <= THROWN_MESSAGE_MAX ? line : `${line.slice(0, THROWN_MESSAGE_MAX - 1)}…`;
}
