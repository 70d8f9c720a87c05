/**
 * `cf-autopublish test <name>`: the publish gate, from a terminal or a CI job before its own publish
 * step. The same gate code as the Lambdas (lib/publish-gate.ts); exit 3 when the function would be
 * blocked (docs/cli-contract.md).
 */
import { readFileSync } from 'node:fs';
import type { Stage } from '../lib/decide';
import { AutoPublishError } from '../lib/errors';
import type { FunctionKind } from '../lib/function-ref';
import { CONNECTION_EVENT_TYPE, EVENT_TYPES, type EventType, parseS3Url, parseTestCases, type WrittenCase } from '../lib/gate';
import type { Runtime } from '../lib/runtime';
import type { S3Gateway } from '../lib/s3-gateway';
import { CommandError, type Io, UsageError } from './io';
import { table } from './table';
import { EXIT } from './exit-codes';
import { contractJson } from './json-output';
import { resolveFunction } from './function-target';

export interface TestCommandOptions {
  readonly kind?: FunctionKind | undefined;
  readonly cases?: string | undefined;
  readonly eventType?: string | undefined;
  readonly stage?: string | undefined;
  readonly json?: boolean | undefined;
  /** Where an s3:// --cases is read from. */
  readonly s3: S3Gateway;
  /** The S3 gateway's endpoint, for the error that names it; undefined: AWS. */
  readonly s3Endpoint?: string | undefined;
}

/**
 * Reading an s3:// --cases failed: the command's other calls go to CloudFront, often at the same
 * endpoint (the emulator serves both), so the error says it was S3.
 */
export class S3ReadError extends AutoPublishError {
  override name = 'S3ReadError';
  readonly retryable = false;
  constructor(
    readonly url: string,
    readonly endpoint: string | undefined,
    cause: unknown,
  ) {
    super(`S3 GetObject ${url} failed`, { cause });
  }
}

export async function runTest(name: string, runtime: Runtime, options: TestCommandOptions, io: Io): Promise<number> {
  const stage = (options.stage ?? 'DEVELOPMENT').toUpperCase();
  if (stage !== 'DEVELOPMENT' && stage !== 'LIVE') throw new UsageError(`--stage "${options.stage}" is not DEVELOPMENT or LIVE`);
  const eventType = options.eventType;
  if (eventType !== undefined && eventType !== CONNECTION_EVENT_TYPE && !EVENT_TYPES.includes(eventType as EventType)) {
    throw new UsageError(`--event-type "${eventType}" is not viewer-request, viewer-response or connection-request`);
  }
  const cases = options.cases === undefined ? undefined : await readCases(options.cases, options);

  const cloudfront = runtime.cloudfrontFor(undefined);
  const fn = await resolveFunction(cloudfront, name, options.kind);
  // A connection function runs on the connection request only, an ordinary one never on it.
  if (eventType !== undefined && (eventType === CONNECTION_EVENT_TYPE) !== (fn.kind === 'connection')) {
    throw new UsageError(
      fn.kind === 'connection'
        ? `--event-type "${eventType}": ${name} is a connection function, it runs on connection-request only`
        : `--event-type "${eventType}": ${name} is a CloudFront function, it runs on viewer-request or viewer-response`,
    );
  }
  const described = await cloudfront.describe(fn, stage as Stage);
  if (!described) throw new CommandError(stage === 'LIVE' ? `${name} has no LIVE stage (never published)` : `no function named ${name}`);
  const tags = await cloudfront.readTags(fn.arn);
  if (tags === 'gone') throw new CommandError(`no function named ${name}`);
  // The gate is on here whatever PUBLISH_GATE says: running it is what was asked.
  const gate = runtime.publishGate(
    cloudfront,
    {
      stage: stage as Stage,
      // The user owns the cases and runs this at a terminal or in CI: the reasons may quote values.
      reveal: true,
      ...(cases ? { cases } : {}),
      // connection-request is the only event a connection function's gate runs: nothing to impose.
      ...(eventType && eventType !== CONNECTION_EVENT_TYPE ? { eventType: eventType as EventType } : {}),
    },
    { force: true },
  );
  const verdict = await gate!.test(fn, described.etag, tags);
  if (verdict === 'gone') throw new CommandError(`no function named ${name}`);
  if (verdict === 'precondition-failed') throw new CommandError(`${name} changed while it was being tested; run it again`);

  if (options.json) {
    io.out(contractJson('test', { functionName: name, stage, etag: described.etag, action: verdict.passed ? 'passed' : 'blocked', ...verdict }));
  } else {
    io.out(
      table(
        ['CASE', 'EVENT TYPE', 'RESULT', 'COMPUTE', 'DETAIL'],
        verdict.cases.map((c) => [
          c.testCase,
          c.eventType,
          c.passed ? 'pass' : 'FAIL',
          c.computeUtilization === undefined ? '-' : String(c.computeUtilization),
          c.passed ? '' : c.reason.replace(`${c.testCase}: `, ''),
        ]),
      ),
    );
    io.out(
      verdict.passed ? `${name} (${stage} ${described.etag}) passes the gate.` : `${name} (${stage} ${described.etag}) would be blocked: ${verdict.reason}`,
    );
  }
  return verdict.passed ? EXIT.ok : EXIT.blocked;
}

async function readCases(source: string, { s3, s3Endpoint }: Pick<TestCommandOptions, 's3' | 's3Endpoint'>): Promise<WrittenCase[]> {
  let text: string;
  const location = source.startsWith('s3://') ? parseS3Url(source) : undefined;
  if (source.startsWith('s3://')) {
    if (!location) throw new UsageError(`--cases "${source}" is not an s3://BUCKET/KEY URL`);
    let read: Awaited<ReturnType<S3Gateway['readText']>>;
    try {
      read = await s3.readText(location.bucket, location.key);
    } catch (error) {
      throw new S3ReadError(source, s3Endpoint, error);
    }
    if (typeof read !== 'string') throw new CommandError(`--cases: S3 GetObject: ${read.unreadable}`);
    text = read;
  } else {
    try {
      text = readFileSync(source, 'utf8');
    } catch (error) {
      throw new CommandError(`cannot read --cases ${source} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
    }
  }
  try {
    return parseTestCases(text);
  } catch (error) {
    throw new CommandError(`--cases ${source}: ${(error as Error).message}`);
  }
}
