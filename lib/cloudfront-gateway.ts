/**
 * The one module that talks to CloudFront. It turns the API's answers into the domain's terms
 * (stages, ETags, tags, "gone") and its expected errors into values; anything unexpected throws.
 * It can only read and publish: there is deliberately no way to update, delete or tag here.
 *
 * Both kinds of function go through the same face: each call takes the function (or, for a listing,
 * the kind) and sends that kind's command (DescribeFunction or DescribeConnectionFunction, ...),
 * mapping each kind's answers and errors into the same values (docs/cloudfront-api.md#connection-functions).
 */
import {
  CloudFrontClient,
  type CloudFrontClientConfig,
  type ConnectionFunctionSummary,
  DescribeConnectionFunctionCommand,
  DescribeFunctionCommand,
  type FunctionConfig,
  type FunctionSummary,
  GetConnectionFunctionCommand,
  GetFunctionCommand,
  ListConnectionFunctionsCommand,
  ListDistributionsCommand,
  ListFunctionsCommand,
  ListTagsForResourceCommand,
  PublishConnectionFunctionCommand,
  PublishFunctionCommand,
  TestConnectionFunctionCommand,
  TestFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import type { ListedStage, Stage, StageView } from './decide';
import type { EventType, TestResult } from './gate';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { AutoPublishError } from './errors';
import { type FunctionKind, type FunctionRef, isConnectionFunctionId, isFunctionName } from './function-ref';

/** One listed function of either kind, with what its stage's listing says. */
export type FunctionListing = ListedStage &
  FunctionRef & {
    /** ARNs of the associated KeyValueStores (at most one today). */
    readonly keyValueStores: readonly string[];
  };

export interface DescribedStage extends StageView {
  readonly arn: string | undefined;
  /** The function's name, as the answer gives it (a connection function addressed by Id learns it here). */
  readonly name?: string | undefined;
  /** A connection function's Id, as the answer gives it (a Describe by an identifier that was its name learns it here). */
  readonly id?: string | undefined;
  /** The stage's configuration, as DescribeFunction answered it (what history saves beside the code). */
  readonly config?: FunctionSettings;
}

/**
 * What a call is about: a function of either kind, or an ordinary function by its name alone (the
 * form every caller used before connection functions, the CLI's and the bench's among them).
 */
export type FunctionTarget = FunctionRef | string;

/** What UpdateFunction takes besides the code: what a saved version must restore. */
export interface FunctionSettings {
  readonly comment: string;
  readonly runtime: string;
  /** KeyValueStore ARNs (at most one today). */
  readonly keyValueStoreAssociations: readonly string[];
}

/** One stage's code, as GetFunction returned it, and the ETag GetFunction answered with it. */
export interface StageCode {
  readonly etag: string;
  /** The code bytes, base64, exactly as GetFunction returned them. */
  readonly code: string;
}

/**
 * `precondition-failed-on-retry`: the 412 answered a retry of the SDK's, so an earlier attempt of
 * ours may have landed before its answer was lost (a 5xx after commit), and the retry met the
 * no-op-publish 412 (docs/cloudfront-api.md#publish-412-quirk).
 */
export type PublishResult = 'published' | 'precondition-failed' | 'precondition-failed-on-retry' | 'gone';

/**
 * Every call takes an optional AbortSignal: when it fires, the SDK sends no further attempt and the
 * call rejects (the sweep uses it so that nothing it started can outlive the Lambda).
 */
export interface CloudFrontGateway {
  /** 'gone' when the function (resource) no longer exists. */
  readTags(arn: string, signal?: AbortSignal): Promise<Record<string, string> | 'gone'>;
  /** null when the stage does not exist: the function is gone (DEVELOPMENT) or never published (LIVE). */
  describe(fn: FunctionTarget, stage: Stage, signal?: AbortSignal): Promise<DescribedStage | null>;
  /** GetFunction: the stage's code; null when the stage does not exist (as for `describe`). */
  getCode(fn: FunctionTarget, stage: Stage, signal?: AbortSignal): Promise<StageCode | null>;
  publish(fn: FunctionTarget, developmentEtag: string, signal?: AbortSignal): Promise<PublishResult>;
  /**
   * One page of functions of `kind` (default: the ordinary kind) at a time, following NextMarker to
   * the end. Connection functions where the API does not offer them (UnsupportedOperation: a region
   * or partition without them) list as none.
   */
  listFunctions(stage: Stage, signal?: AbortSignal, kind?: FunctionKind): AsyncIterable<FunctionListing[]>;
  /**
   * TestFunction (TestConnectionFunction: `event` is the connection object) with IfMatch = `etag`:
   * 'precondition-failed' when that is no longer the stage's ETag (the stage changed under us),
   * 'gone' when the function was deleted.
   */
  testFunction(fn: FunctionTarget, etag: string, stage: Stage, event: unknown, signal?: AbortSignal): Promise<TestResult | 'precondition-failed' | 'gone'>;
  /** Every function association of the account's distributions: function ARN → the event types it runs on. */
  listFunctionAssociations(signal?: AbortSignal): Promise<ReadonlyMap<string, ReadonlySet<EventType>>>;
}

export interface CloudFrontClientOptions extends AwsClientOptions {
  /**
   * Client-side pacing: at most this many requests per second (each attempt, retries included), with
   * bursts of `burst`. Undefined = no pacing, only the adaptive retry mode's limiter, which engages
   * after the first throttle and starts low (measured in bench/results.json). Set it a little under
   * the account's limit.
   */
  readonly maxCallsPerSecond?: number | undefined;
  readonly burst?: number | undefined;
  /**
   * Another client's HTTP handler (its `config.requestHandler`), so this client reuses its kept-alive
   * connections: organisation mode's member accounts all call the same endpoint, and a connection
   * (a TLS handshake in AWS) per account was the largest share of the worker's CPU after the SDK's
   * own per-request work (docs/performance.md).
   */
  readonly requestHandler?: CloudFrontClientConfig['requestHandler'];
}

/** CloudFront is global; its control plane is signed for us-east-1. */
export function createCloudFrontClient(options: CloudFrontClientOptions = {}): CloudFrontClient {
  const client = new CloudFrontClient({
    ...awsClientConfig({ ...options, region: options.region ?? 'us-east-1' }, 8),
    ...(options.requestHandler ? { requestHandler: options.requestHandler } : {}),
  });
  if (options.maxCallsPerSecond !== undefined && options.maxCallsPerSecond > 0) {
    const pacer = new Pacer(options.maxCallsPerSecond, options.burst ?? Math.max(1, Math.floor(options.maxCallsPerSecond)));
    // finalizeRequest, low priority: inside the retry middleware, so every attempt waits its turn.
    client.middlewareStack.add(
      (next) => async (args) => {
        await pacer.take();
        return next(args);
      },
      { step: 'finalizeRequest', priority: 'low', name: 'cloudFrontPacer' },
    );
  }
  return client;
}

/**
 * A token bucket on the client side: `take()` resolves when a token is free, in FIFO order. Shared by
 * every call of one client (one Lambda container), so concurrency cannot push past the rate.
 */
export class Pacer {
  private tokens: number;
  private last: number;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    readonly ratePerSecond: number,
    readonly burst: number,
    private readonly now: () => number = () => performance.now(),
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {
    if (!(ratePerSecond > 0) || !(burst >= 1)) throw new RangeError('pacing needs a rate > 0 and a burst >= 1');
    this.tokens = burst;
    this.last = now();
  }

  take(): Promise<void> {
    const turn = this.queue.then(() => this.wait());
    this.queue = turn;
    return turn;
  }

  private async wait(): Promise<void> {
    for (;;) {
      const now = this.now();
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.ratePerSecond);
      this.last = now;
      if (this.tokens >= 1) {
        this.tokens -= 1;
        return;
      }
      await this.sleep(Math.ceil(((1 - this.tokens) / this.ratePerSecond) * 1000));
    }
  }
}

export function cloudFrontGateway(client: CloudFrontClient): CloudFrontGateway {
  watchForLostAnswers(client);
  const kinds = kindCalls(client);
  return {
    async readTags(arn, signal) {
      try {
        const out = await client.send(new ListTagsForResourceCommand({ Resource: arn }), sendOptions(signal));
        const tags: Record<string, string> = {};
        for (const tag of out.Tags?.Items ?? []) {
          if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
        }
        return tags;
      } catch (error) {
        // A connection function's ARN may well answer its kind's own EntityNotFound.
        if (isError(error, 'NoSuchResource', 'NoSuchFunctionExists', 'EntityNotFound')) return 'gone';
        throw error;
      }
    },

    async describe(fn, stage, signal) {
      const { calls, id } = target(kinds, fn);
      try {
        const out = await calls.describe(id, stage, sendOptions(signal));
        if (!out.etag) throw new CloudFrontAnswerError(`${calls.op.describe} ${id} (${stage}) answered without an ETag`);
        return {
          etag: out.etag,
          status: out.status ?? '',
          arn: out.arn,
          name: out.name,
          ...(out.id !== undefined ? { id: out.id } : {}),
          config: settingsOf(out.config),
        };
      } catch (error) {
        if (isError(error, ...calls.gone)) return null;
        throw error;
      }
    },

    async getCode(fn, stage, signal) {
      const { calls, id } = target(kinds, fn);
      try {
        const out = await calls.getCode(id, stage, sendOptions(signal));
        if (!out.etag) throw new CloudFrontAnswerError(`${calls.op.getCode} ${id} (${stage}) answered without an ETag`);
        return { etag: out.etag, code: Buffer.from(out.code ?? new Uint8Array()).toString('base64') };
      } catch (error) {
        if (isError(error, ...calls.gone)) return null;
        throw error;
      }
    },

    async publish(fn, developmentEtag, signal) {
      const { calls, id } = target(kinds, fn);
      try {
        await calls.publish(id, developmentEtag, sendOptions(signal));
        return 'published';
      } catch (error) {
        if (isError(error, 'PreconditionFailed')) return answerWasLost(error) ? 'precondition-failed-on-retry' : 'precondition-failed';
        if (isError(error, ...calls.gone)) return 'gone';
        throw error;
      }
    },

    async *listFunctions(stage, signal, kind = 'function') {
      const calls = kinds[kind];
      const call = `${calls.op.list} (${stage})`;
      // A function repeated across pages (a marker that did not advance) is listed once.
      const seen = new Set<string>();
      const pages = pagesOf(call, (marker) => calls.list(stage, marker, sendOptions(signal)));
      try {
        for await (const items of pages) {
          const page: FunctionListing[] = [];
          for (const item of items) {
            // Stage is optional in the ordinary kind's model, but when an item names one, it must be the
            // stage asked for: a listing that mixes stages is not a listing of `stage`
            // (docs/cloudfront-api.md#listfunctions-paging).
            if (item.stage !== undefined && item.stage !== stage) {
              throw new ListingError(
                call,
                `item ${JSON.stringify(String(item.name).slice(0, 64))} is listed in stage ${JSON.stringify(String(item.stage).slice(0, 32))}, not the stage asked for`,
              );
            }
            const { listed } = item;
            if (!listed || seen.has(listed.key)) continue;
            seen.add(listed.key);
            page.push(listed.fn);
          }
          yield page;
        }
      } catch (error) {
        // An API without connection functions (a region or partition that does not offer them) has none.
        if (kind === 'connection' && isError(error, 'UnsupportedOperation')) return;
        throw error;
      }
    },

    async testFunction(fn, etag, stage, event, signal) {
      const { calls, id } = target(kinds, fn);
      try {
        return await calls.test(id, etag, stage, new TextEncoder().encode(JSON.stringify(event)), sendOptions(signal));
      } catch (error) {
        // A stale or malformed If-Match both mean: what we meant to test is not the stage any more.
        if (isError(error, 'PreconditionFailed', 'InvalidIfMatchVersion')) return 'precondition-failed';
        if (isError(error, ...calls.gone)) return 'gone';
        throw error;
      }
    },

    async listFunctionAssociations(signal) {
      const associations = new Map<string, Set<EventType>>();
      const pages = pagesOf('ListDistributions', async (marker) => {
        const out = await client.send(new ListDistributionsCommand({ MaxItems: 100, Marker: marker }), sendOptions(signal));
        return { items: out.DistributionList?.Items ?? [], next: out.DistributionList?.IsTruncated ? out.DistributionList.NextMarker : undefined };
      });
      for await (const distributions of pages) {
        for (const distribution of distributions) {
          const behaviours = [distribution.DefaultCacheBehavior, ...(distribution.CacheBehaviors?.Items ?? [])];
          for (const association of behaviours.flatMap((b) => b?.FunctionAssociations?.Items ?? [])) {
            const type = association.EventType;
            if (!association.FunctionARN || (type !== 'viewer-request' && type !== 'viewer-response')) continue;
            associations.set(association.FunctionARN, (associations.get(association.FunctionARN) ?? new Set<EventType>()).add(type));
          }
        }
      }
      return associations;
    },
  };
}

/**
 * A listing that cannot be trusted to be complete. 1,000 pages of 100 is 100,000 functions, a
 * thousand times CloudFront's default quota per account (docs/cloudfront-api.md#quotas-and-rate-limits).
 */
export const MAX_LIST_PAGES = 1_000;

/**
 * Follows NextMarker to the end of a listing. An endpoint whose marker never advances, or cycles,
 * would make a listing that never ends, or one that repeats some items and silently misses others:
 * any marker seen before in this listing, or more than MAX_LIST_PAGES pages, fails it.
 */
async function* pagesOf<T>(call: string, fetch: (marker: string | undefined) => Promise<{ items: T[]; next: string | undefined }>): AsyncGenerator<T[]> {
  const markersSeen = new Set<string>();
  let marker: string | undefined;
  for (let pages = 1; ; pages++) {
    const { items, next } = await fetch(marker);
    yield items;
    if (!next) return;
    if (markersSeen.has(next) || next === marker) {
      throw new ListingError(call, `page ${pages} answered NextMarker "${next.slice(0, 64)}", a marker already seen in this listing: it would never end`);
    }
    if (pages >= MAX_LIST_PAGES) throw new ListingError(call, `more than ${MAX_LIST_PAGES} pages; refusing to list on`);
    markersSeen.add(next);
    marker = next;
  }
}

/** The endpoint's paging (or a listed item) is broken: asking again gets the same answer. */
export class ListingError extends AutoPublishError {
  override name = 'ListingError';
  readonly retryable = false;
  constructor(
    /** The call and what it listed, e.g. "ListFunctions (DEVELOPMENT)". */
    readonly call: string,
    detail: string,
  ) {
    super(`${call}: ${detail}`);
  }
}

/** An answer (or a name) the gateway cannot work with; the same call would meet it again. */
export class CloudFrontAnswerError extends AutoPublishError {
  override name = 'CloudFrontAnswerError';
  readonly retryable = false;
}

/**
 * One listed item, before it is checked: the name and stage it lists, and its listing (undefined when
 * it lacks what identifies it) with the key it is deduplicated on.
 */
interface ListedItem {
  readonly name: string | undefined;
  readonly stage: string | undefined;
  readonly listed: { readonly key: string; readonly fn: FunctionListing } | undefined;
}

interface Described {
  readonly etag: string | undefined;
  readonly status: string | undefined;
  readonly arn: string | undefined;
  readonly name: string | undefined;
  readonly id?: string | undefined;
  readonly config: FunctionConfig | undefined;
}

type SendOptions = { abortSignal?: AbortSignal };

/**
 * What differs between the two kinds: the commands, how their answers are shaped, and which error says
 * "not there" (the ordinary kind's NoSuchFunctionExists, the connection kind's EntityNotFound). The
 * decisions around them (null, 'gone', 412s, paging) are made once, in the gateway above.
 */
interface KindCalls {
  readonly op: { readonly describe: string; readonly getCode: string; readonly list: string };
  readonly gone: readonly string[];
  /** Refuses an identifier that must not reach a URL path. */
  readonly check: (id: string) => void;
  describe(id: string, stage: Stage, options: SendOptions): Promise<Described>;
  getCode(id: string, stage: Stage, options: SendOptions): Promise<{ etag: string | undefined; code: Uint8Array | undefined }>;
  publish(id: string, etag: string, options: SendOptions): Promise<unknown>;
  test(id: string, etag: string, stage: Stage, event: Uint8Array, options: SendOptions): Promise<TestResult>;
  list(stage: Stage, marker: string | undefined, options: SendOptions): Promise<{ items: ListedItem[]; next: string | undefined }>;
}

function kindCalls(client: CloudFrontClient): Record<FunctionKind, KindCalls> {
  const ordinary: KindCalls = {
    op: { describe: 'DescribeFunction', getCode: 'GetFunction', list: 'ListFunctions' },
    gone: ['NoSuchFunctionExists'],
    check: assertName,
    async describe(name, stage, options) {
      const out = await client.send(new DescribeFunctionCommand({ Name: name, Stage: stage }), options);
      const summary = out.FunctionSummary;
      return { etag: out.ETag, status: summary?.Status, arn: summary?.FunctionMetadata?.FunctionARN, name: summary?.Name, config: summary?.FunctionConfig };
    },
    async getCode(name, stage, options) {
      const out = await client.send(new GetFunctionCommand({ Name: name, Stage: stage }), options);
      return { etag: out.ETag, code: out.FunctionCode };
    },
    publish: (name, etag, options) => client.send(new PublishFunctionCommand({ Name: name, IfMatch: etag }), options),
    async test(name, etag, stage, event, options) {
      const result = (await client.send(new TestFunctionCommand({ Name: name, IfMatch: etag, Stage: stage, EventObject: event }), options)).TestResult;
      return {
        computeUtilization: result?.ComputeUtilization,
        errorMessage: result?.FunctionErrorMessage,
        output: result?.FunctionOutput,
        logs: result?.FunctionExecutionLogs ?? [],
      };
    },
    async list(stage, marker, options) {
      const out = await client.send(new ListFunctionsCommand({ Stage: stage, MaxItems: 100, Marker: marker }), options);
      return { items: (out.FunctionList?.Items ?? []).map(ordinaryListing), next: out.FunctionList?.NextMarker };
    },
  };
  const connection: KindCalls = {
    op: { describe: 'DescribeConnectionFunction', getCode: 'GetConnectionFunction', list: 'ListConnectionFunctions' },
    gone: ['EntityNotFound'],
    check: assertConnectionId,
    async describe(id, stage, options) {
      const out = await client.send(new DescribeConnectionFunctionCommand({ Identifier: id, Stage: stage }), options);
      const summary = out.ConnectionFunctionSummary;
      return {
        etag: out.ETag,
        status: summary?.Status,
        arn: summary?.ConnectionFunctionArn,
        name: summary?.Name,
        id: summary?.Id,
        config: summary?.ConnectionFunctionConfig,
      };
    },
    async getCode(id, stage, options) {
      const out = await client.send(new GetConnectionFunctionCommand({ Identifier: id, Stage: stage }), options);
      return { etag: out.ETag, code: out.ConnectionFunctionCode };
    },
    publish: (id, etag, options) => client.send(new PublishConnectionFunctionCommand({ Id: id, IfMatch: etag }), options),
    async test(id, etag, stage, event, options) {
      const out = await client.send(new TestConnectionFunctionCommand({ Id: id, IfMatch: etag, Stage: stage, ConnectionObject: event }), options);
      const result = out.ConnectionFunctionTestResult;
      return {
        computeUtilization: result?.ComputeUtilization,
        errorMessage: result?.ConnectionFunctionErrorMessage,
        output: result?.ConnectionFunctionOutput,
        logs: result?.ConnectionFunctionExecutionLogs ?? [],
      };
    },
    async list(stage, marker, options) {
      const out = await client.send(new ListConnectionFunctionsCommand({ Stage: stage, MaxItems: 100, Marker: marker }), options);
      return { items: (out.ConnectionFunctions ?? []).map(connectionListing), next: out.NextMarker };
    },
  };
  return { function: ordinary, connection };
}

function ordinaryListing(item: FunctionSummary): ListedItem {
  const arn = item.FunctionMetadata?.FunctionARN;
  const fn: FunctionListing | undefined =
    item.Name && arn
      ? {
          name: item.Name,
          arn,
          status: item.Status ?? '',
          lastModified: item.FunctionMetadata?.LastModifiedTime,
          keyValueStores: storesOf(item.FunctionConfig),
        }
      : undefined;
  return { name: item.Name, stage: item.FunctionMetadata?.Stage, listed: fn && { key: fn.name, fn } };
}

/** The connection kind's summary is flat: Id, ARN, status and times beside the name. */
function connectionListing(item: ConnectionFunctionSummary): ListedItem {
  const fn: FunctionListing | undefined =
    item.Name && item.Id && item.ConnectionFunctionArn
      ? {
          kind: 'connection',
          id: item.Id,
          name: item.Name,
          arn: item.ConnectionFunctionArn,
          status: item.Status ?? '',
          lastModified: item.LastModifiedTime,
          keyValueStores: storesOf(item.ConnectionFunctionConfig),
        }
      : undefined;
  return { name: item.Name, stage: item.Stage, listed: fn && { key: item.Id as string, fn } };
}

/** The kind's calls and the identifier its API takes, checked before it reaches a URL path. */
function target(kinds: Record<FunctionKind, KindCalls>, fn: FunctionTarget): { calls: KindCalls; id: string } {
  if (typeof fn === 'string') {
    kinds.function.check(fn);
    return { calls: kinds.function, id: fn };
  }
  const calls = kinds[fn.kind ?? 'function'];
  const id = fn.kind === 'connection' ? fn.id : fn.name;
  calls.check(id);
  return { calls, id };
}

function storesOf(config: FunctionConfig | undefined): string[] {
  return (config?.KeyValueStoreAssociations?.Items ?? []).flatMap((s) => (s.KeyValueStoreARN ? [s.KeyValueStoreARN] : []));
}

function settingsOf(config: FunctionConfig | undefined): FunctionSettings {
  return {
    comment: config?.Comment ?? '',
    runtime: config?.Runtime ?? '',
    keyValueStoreAssociations: storesOf(config),
  };
}

function sendOptions(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  return signal ? { abortSignal: signal } : {};
}

/**
 * Marks a call whose earlier attempt may have changed state although its answer was lost: a 5xx, a
 * timeout or a dropped connection (a throttle or another 4xx changed nothing). One middleware inside
 * the SDK's retry loop notes such an attempt on the call's context; one outside it copies the note
 * onto the error the call finally rejects with. Added once per client.
 */
const LOST_ANSWER = Symbol('cloudfront-autopublish.lostAnswer');
const watched = new WeakSet<CloudFrontClient>();

function watchForLostAnswers(client: CloudFrontClient): void {
  if (watched.has(client)) return;
  watched.add(client);
  const marks = new WeakMap<object, true>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
        if (status === undefined || status >= 500) marks.set(context, true);
        throw error;
      }
    },
    { step: 'finalizeRequest', priority: 'low', name: 'cloudFrontAttemptWatch' },
  );
  client.middlewareStack.add(
    (next, context) => async (args) => {
      try {
        return await next(args);
      } catch (error) {
        if (marks.has(context) && typeof error === 'object' && error !== null) Object.defineProperty(error, LOST_ANSWER, { value: true });
        throw error;
      }
    },
    { step: 'initialize', priority: 'high', name: 'cloudFrontLostAnswer' },
  );
}

function answerWasLost(error: unknown): boolean {
  return typeof error === 'object' && error !== null && LOST_ANSWER in error;
}

/** The SDK names modelled errors by `name`; unmodelled ones (Throttling) by `name` too. */
export function isError(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes((error as { name?: unknown }).name as string);
}

// Names come from events; never let one that breaks CloudFront's rule reach a URL path.
function assertName(name: string): void {
  if (!isFunctionName(name)) throw new CloudFrontAnswerError(`refusing to call CloudFront for invalid function name ${JSON.stringify(name)}`);
}

function assertConnectionId(id: string): void {
  const valid: boolean = isConnectionFunctionId(id);
  if (!valid) throw new CloudFrontAnswerError(`refusing to call CloudFront for invalid connection function Id ${JSON.stringify(id.slice(0, 80))}`);
}
