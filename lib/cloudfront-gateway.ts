/**
 * The one module that talks to CloudFront. It turns the API's answers into the domain's terms
 * (stages, ETags, tags, "gone") and its expected errors into values; anything unexpected throws.
 * It can only read and publish: there is deliberately no way to update, delete or tag here.
 */
import {
  CloudFrontClient,
  type CloudFrontClientConfig,
  DescribeFunctionCommand,
  type FunctionSummary,
  GetFunctionCommand,
  ListDistributionsCommand,
  ListFunctionsCommand,
  ListTagsForResourceCommand,
  PublishFunctionCommand,
  TestFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import type { ListedStage, Stage, StageView } from './decide';
import type { EventType, TestResult } from './gate';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { AutoPublishError } from './errors';
import { isFunctionName } from './function-ref';

export interface FunctionListing extends ListedStage {
  readonly name: string;
  readonly arn: string;
  /** ARNs of the associated KeyValueStores (at most one today). */
  readonly keyValueStores: readonly string[];
}

export interface DescribedStage extends StageView {
  readonly arn: string | undefined;
  /** The stage's configuration, as DescribeFunction answered it (what history saves beside the code). */
  readonly config?: FunctionSettings;
}

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
  describe(name: string, stage: Stage, signal?: AbortSignal): Promise<DescribedStage | null>;
  /** GetFunction: the stage's code; null when the stage does not exist (as for `describe`). */
  getCode(name: string, stage: Stage, signal?: AbortSignal): Promise<StageCode | null>;
  publish(name: string, developmentEtag: string, signal?: AbortSignal): Promise<PublishResult>;
  /** One page of functions at a time, following NextMarker to the end. */
  listFunctions(stage: Stage, signal?: AbortSignal): AsyncIterable<FunctionListing[]>;
  /**
   * TestFunction with IfMatch = `etag`: 'precondition-failed' when that is no longer the stage's ETag
   * (the stage changed under us), 'gone' when the function was deleted.
   */
  testFunction(name: string, etag: string, stage: Stage, event: unknown, signal?: AbortSignal): Promise<TestResult | 'precondition-failed' | 'gone'>;
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
        if (isError(error, 'NoSuchResource', 'NoSuchFunctionExists')) return 'gone';
        throw error;
      }
    },

    async describe(name, stage, signal) {
      assertName(name);
      try {
        const out = await client.send(new DescribeFunctionCommand({ Name: name, Stage: stage }), sendOptions(signal));
        if (!out.ETag) throw new CloudFrontAnswerError(`DescribeFunction ${name} (${stage}) answered without an ETag`);
        const summary = out.FunctionSummary;
        return { etag: out.ETag, status: summary?.Status ?? '', arn: summary?.FunctionMetadata?.FunctionARN, config: settingsOf(summary) };
      } catch (error) {
        if (isError(error, 'NoSuchFunctionExists')) return null;
        throw error;
      }
    },

    async getCode(name, stage, signal) {
      assertName(name);
      try {
        const out = await client.send(new GetFunctionCommand({ Name: name, Stage: stage }), sendOptions(signal));
        if (!out.ETag) throw new CloudFrontAnswerError(`GetFunction ${name} (${stage}) answered without an ETag`);
        return { etag: out.ETag, code: Buffer.from(out.FunctionCode ?? new Uint8Array()).toString('base64') };
      } catch (error) {
        if (isError(error, 'NoSuchFunctionExists')) return null;
        throw error;
      }
    },

    async publish(name, developmentEtag, signal) {
      assertName(name);
      try {
        await client.send(new PublishFunctionCommand({ Name: name, IfMatch: developmentEtag }), sendOptions(signal));
        return 'published';
      } catch (error) {
        if (isError(error, 'PreconditionFailed')) return answerWasLost(error) ? 'precondition-failed-on-retry' : 'precondition-failed';
        if (isError(error, 'NoSuchFunctionExists')) return 'gone';
        throw error;
      }
    },

    async *listFunctions(stage, signal) {
      // A name repeated across pages (a marker that did not advance) is listed once.
      const namesSeen = new Set<string>();
      const pages = pagesOf(`ListFunctions (${stage})`, async (marker) => {
        const out = await client.send(new ListFunctionsCommand({ Stage: stage, MaxItems: 100, Marker: marker }), sendOptions(signal));
        return { items: out.FunctionList?.Items ?? [], next: out.FunctionList?.NextMarker };
      });
      for await (const items of pages) {
        const page: FunctionListing[] = [];
        for (const item of items) {
          // Stage is optional in the model, but when an item names one, it must be the stage asked for:
          // a listing that mixes stages is not a listing of `stage` (docs/cloudfront-api.md#listfunctions-paging).
          const listedStage = item.FunctionMetadata?.Stage;
          if (listedStage !== undefined && listedStage !== stage) {
            throw new ListingError(
              `ListFunctions (${stage})`,
              `item ${JSON.stringify(String(item.Name).slice(0, 64))} is listed in stage ${JSON.stringify(String(listedStage).slice(0, 32))}, not the stage asked for`,
            );
          }
          const arn = item.FunctionMetadata?.FunctionARN;
          if (!item.Name || !arn || namesSeen.has(item.Name)) continue;
          namesSeen.add(item.Name);
          const stores = item.FunctionConfig?.KeyValueStoreAssociations?.Items ?? [];
          page.push({
            name: item.Name,
            arn,
            status: item.Status ?? '',
            lastModified: item.FunctionMetadata?.LastModifiedTime,
            keyValueStores: stores.flatMap((s) => (s.KeyValueStoreARN ? [s.KeyValueStoreARN] : [])),
          });
        }
        yield page;
      }
    },

    async testFunction(name, etag, stage, event, signal) {
      assertName(name);
      try {
        const out = await client.send(
          new TestFunctionCommand({ Name: name, IfMatch: etag, Stage: stage, EventObject: new TextEncoder().encode(JSON.stringify(event)) }),
          sendOptions(signal),
        );
        const result = out.TestResult;
        return {
          computeUtilization: result?.ComputeUtilization,
          errorMessage: result?.FunctionErrorMessage,
          output: result?.FunctionOutput,
          logs: result?.FunctionExecutionLogs ?? [],
        };
      } catch (error) {
        // A stale or malformed If-Match both mean: what we meant to test is not the stage any more.
        if (isError(error, 'PreconditionFailed', 'InvalidIfMatchVersion')) return 'precondition-failed';
        if (isError(error, 'NoSuchFunctionExists')) return 'gone';
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

function settingsOf(summary: FunctionSummary | undefined): FunctionSettings {
  const config = summary?.FunctionConfig;
  return {
    comment: config?.Comment ?? '',
    runtime: config?.Runtime ?? '',
    keyValueStoreAssociations: (config?.KeyValueStoreAssociations?.Items ?? []).flatMap((s) => (s.KeyValueStoreARN ? [s.KeyValueStoreARN] : [])),
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
