/** Helpers for the end-to-end tests: real SDK, real handlers, the emulator and its local bus. */
import {
  type CloudFrontClient,
  CreateConnectionFunctionCommand,
  CreateFunctionCommand,
  TagResourceCommand,
  UntagResourceCommand,
} from '@aws-sdk/client-cloudfront';
import { RECONCILER_ACTOR, type LocalStack, type LocalStackOptions, startLocalStack } from '../../local/local-stack';
import { editFunction } from '../../local/console-edit';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { connectionCombinations, connectionRecordShapeCombinations, describeVariants, type Variants } from '../../emulator';
import { createS3Client } from '../../lib/s3-gateway';
import type { HistoryRecord } from '../../lib/history';

export const OPT_IN = { Key: 'auto-publish', Value: 'true' };
const source = (version: string) => `function handler(event) { /* ${version} */ return event.request; }`;
export const code = (version: string) => new TextEncoder().encode(source(version));

export async function withStack(options: LocalStackOptions, body: (stack: LocalStack) => Promise<void>): Promise<void> {
  const stack = await startLocalStack(options);
  try {
    await body(stack);
  } finally {
    await stack.close();
  }
}

export async function create(client: CloudFrontClient, name: string, tagged: boolean): Promise<void> {
  await client.send(
    new CreateFunctionCommand({
      Name: name,
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      FunctionCode: code('v1'),
      ...(tagged ? { Tags: { Items: [OPT_IN] } } : {}),
    }),
  );
}

/** What the console does: read DEVELOPMENT, send the new code with its ETag. */
export const update = (client: CloudFrontClient, name: string, version: string): Promise<string> => editFunction(client, name, source(version));

export async function tag(client: CloudFrontClient, stack: LocalStack, name: string, value = 'true'): Promise<void> {
  await client.send(new TagResourceCommand({ Resource: stack.emulator.state.model.arnFor(name), Tags: { Items: [{ Key: 'auto-publish', Value: value }] } }));
}

export async function untag(client: CloudFrontClient, stack: LocalStack, name: string): Promise<void> {
  await client.send(new UntagResourceCommand({ Resource: stack.emulator.state.model.arnFor(name), TagKeys: { Items: ['auto-publish'] } }));
}

export function stateOf(stack: LocalStack, name: string) {
  const f = stack.emulator.state.snapshot().find((s) => s.name === name);
  if (!f) throw new Error(`no function ${name}`);
  return { dev: f.development.etag, live: f.live?.etag, inSync: f.live?.etag === f.development.etag, tags: f.tags };
}

export const reconcilerPublishes = (stack: LocalStack) => stack.emulator.controls.publishLog().filter((p) => p.actor === RECONCILER_ACTOR);

/**
 * Associates a published function with a new distribution, as a console user editing the
 * distribution would (UpdateDistribution is not a function event: nothing reaches the reconciler).
 * From then on the function reads DEPLOYED.
 */
export function associate(stack: LocalStack, name: string): string {
  const d = stack.emulator.state.createDistribution({ comment: `uses ${name}` });
  stack.emulator.state.associateFunction({ distributionId: d.id, functionArn: stack.emulator.state.model.arnFor(name), eventType: 'viewer-request' });
  return d.id;
}

/** Both stages' statuses, peeked: unlike a DescribeFunction, this uses up none of an IN_PROGRESS window's reads. */
export function statusOf(stack: LocalStack, name: string): { development: string; live: string | undefined } {
  const f = stack.emulator.state.snapshot().find((s) => s.name === name);
  if (!f) throw new Error(`no function ${name}`);
  return { development: f.development.status, live: f.live?.status };
}

/** From now on, every call the reconciler makes: the operation and the function it names ('' for a listing). */
export function recordReconcilerCalls(stack: LocalStack): { operation: string; name: string }[] {
  const calls: { operation: string; name: string }[] = [];
  stack.emulator.controls.setAuthorizer((request) => {
    if (request.actor === RECONCILER_ACTOR) calls.push({ operation: request.operation, name: request.target?.split(':function/').at(-1) ?? '' });
    return true;
  });
  return calls;
}

/** The history bucket the history tests create in the emulator's S3. */
export const HISTORY_BUCKET = 'autopublish-history';

export async function savedRecords(stack: LocalStack): Promise<{ key: string; record: HistoryRecord }[]> {
  const s3 = createS3Client({ endpoint: stack.emulator.endpoint, credentials: { accessKeyId: 'AKIDTEST', secretAccessKey: 'x' } });
  const out: { key: string; record: HistoryRecord }[] = [];
  for (const object of stack.emulator.state.objects().filter((o) => o.bucket === HISTORY_BUCKET)) {
    const got = await s3.send(new GetObjectCommand({ Bucket: HISTORY_BUCKET, Key: object.key }));
    out.push({ key: object.key, record: JSON.parse((await got.Body?.transformToString()) ?? '') as HistoryRecord });
  }
  s3.destroy();
  return out;
}

// ------------------------------------------------------------------------------ connection functions

/** Connection-function code: the handler decides with allow() or deny() (docs/cloudfront-api.md#connection-functions). */
export const ALLOWS = (label: string) => `function connectionHandler(connection) { /* ${label} */ connection.allow(); }`;
export const DENIES = (label: string) => `function connectionHandler(connection) { /* ${label} */ connection.deny(); }`;

export interface CreatedConnection {
  readonly id: string;
  /** As CloudFront answers it under the reading in force (emulator variant connectionArn). */
  readonly arn: string;
  readonly etag: string;
}

/** CreateConnectionFunction as a console user or CI job sends it (the emulator writes its CloudTrail record). */
export async function createConnection(
  client: CloudFrontClient,
  name: string,
  source: string,
  tags: Record<string, string> | boolean = true,
): Promise<CreatedConnection> {
  const items = tags === true ? { 'auto-publish': 'true' } : tags === false ? {} : tags;
  const out = await client.send(
    new CreateConnectionFunctionCommand({
      Name: name,
      ConnectionFunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
      ConnectionFunctionCode: new TextEncoder().encode(source),
      ...(Object.keys(items).length > 0 ? { Tags: { Items: Object.entries(items).map(([Key, Value]) => ({ Key, Value })) } } : {}),
    }),
  );
  const summary = out.ConnectionFunctionSummary;
  if (!summary?.Id || !summary.ConnectionFunctionArn || !out.ETag) throw new Error(`CreateConnectionFunction ${name}: no Id, ARN or ETag in the answer`);
  return { id: summary.Id, arn: summary.ConnectionFunctionArn, etag: out.ETag };
}

export async function tagConnection(client: CloudFrontClient, arn: string, value = 'true'): Promise<void> {
  await client.send(new TagResourceCommand({ Resource: arn, Tags: { Items: [{ Key: 'auto-publish', Value: value }] } }));
}

export async function untagConnection(client: CloudFrontClient, arn: string): Promise<void> {
  await client.send(new UntagResourceCommand({ Resource: arn, TagKeys: { Items: ['auto-publish'] } }));
}

/**
 * A connection function's stages, peeked. `inSync` compares the code each stage holds (every version
 * in these tests has its own code): under connectionLiveEtag=distinct equal ETags never say it.
 */
export function connectionOf(stack: LocalStack, id: string) {
  const f = stack.emulator.state.connectionFunctions().find((s) => s.id === id);
  if (!f) throw new Error(`no connection function ${id}`);
  return {
    name: f.name,
    dev: f.development.etag,
    live: f.live?.etag,
    devCode: f.development.code,
    liveCode: f.live?.code,
    inSync: f.live !== undefined && f.live.code === f.development.code,
    tags: f.tags,
  };
}

/** The reconciler's PublishConnectionFunction calls that landed, for one connection function. */
export const connectionPublishes = (stack: LocalStack, id: string) => reconcilerPublishes(stack).filter((p) => p.connectionFunctionId === id);

/**
 * Every connection-function reading the emulator defines, each once: its 16 readings of CloudFront's
 * answers, then its 24 record shapes but the default one (already among the first).
 */
export const CONNECTION_READINGS: readonly Variants[] = (() => {
  const seen = new Set<string>();
  return [...connectionCombinations(), ...connectionRecordShapeCombinations()].filter((v) => {
    const key = describeVariants(v);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
})();

/** A reading in a test title: the connection variants and the record shape only (everything else is at its default). */
export const titleOf = (v: Variants) =>
  describeVariants(v)
    .split(' ')
    .filter((part) => /^(connection|cloudTrail)/.test(part))
    .join(' ');

/** What `startOver` needs of a local stack or an organisation stack. */
interface Restartable {
  readonly emulator: { resetAll(): void; readonly controls: { setVariants(v: Partial<Variants>): unknown; clearPublishLog(): void; resetCalls(): void } };
  readonly outcomes: unknown[];
  readonly failureQueue: unknown[];
  settle(): Promise<void>;
}

/**
 * One stack for many readings: once nothing is in flight, switches to `variants` and empties every
 * account (functions, distributions, buckets, parameters), the publish log (Ids start again from the
 * same sequence after a reset), the call counts, the outcomes and the failure queue.
 */
export async function startOver(stack: Restartable, variants: Variants): Promise<void> {
  await stack.settle();
  stack.emulator.controls.setVariants(variants);
  stack.emulator.resetAll();
  stack.emulator.controls.clearPublishLog();
  stack.emulator.controls.resetCalls();
  stack.outcomes.length = 0;
  stack.failureQueue.length = 0;
}
