/**
 * Public entry of the embedded CloudFront Functions emulator.
 *
 *   const cf = await startEmulator({ accountId: '123456789012' });
 *   new CloudFrontClient({ endpoint: cf.endpoint, region: 'us-east-1', credentials: {...} });
 *   cf.onCloudTrailEvent((e) => bus.put(e));
 *   ...
 *   await cf.close();
 */
import { EmulatorServer, type Authorizer, type PublishLogEntry, type ServerOptions } from './server';
import type { CloudTrailEvent } from './cloudtrail';
import type { FaultSettings, Latency, RateLimit } from './faults';
import type { AssociationSnapshot, CloudFrontModel, FunctionSnapshot, SeedInput } from './model';
import type { AssociateInput, CreateDistributionInput, DisassociateInput, DistributionView } from './distributions';
import type { Variants } from './variants';
import type { BucketOptions, PutObjectOptions, S3ObjectView } from './s3';

export type EmulatorOptions = ServerOptions;

export interface EmulatorControls {
  /** Delay before every answer: fixed ms or a uniform {min,max} range; undefined = none. */
  setLatency(latency: Latency | undefined): void;
  /** Token bucket per account; over the limit → 400 Throttling "Rate exceeded". undefined = off. */
  setRateLimit(limit: RateLimit | undefined): void;
  /** Seeded random 500 InternalError / 503 ServiceUnavailable. undefined = off. */
  setFaults(settings: FaultSettings | undefined): void;
  setFunctionQuota(quota: number): void;
  setMaxCodeBytes(bytes: number): void;
  /** Publish of an in-sync function answers 412 (Terraform issue 49572). Default on. */
  setNoopPublishPreconditionFailed(enabled: boolean): void;
  /** The unconfirmed-behaviour variants in force (see emulator/VARIANTS.md). */
  variants(): Variants;
  /** Changes the given variants for the calls that follow; returns all of them. Throws RangeError on a bad value. */
  setVariants(variants: Partial<Variants>): Variants;
  /**
   * TestFunction's compute budget per run in ms (default 1000): ComputeUtilization =
   * ceil(100 × elapsed / budget), a run reaching it is stopped with TIMEOUT_MESSAGE. Throws RangeError
   * unless a positive integer.
   */
  setTestFunctionBudget(ms: number): void;
  testFunctionBudget(): number;
  /**
   * Report this ComputeUtilization on every TestFunction instead of the measurement (e.g. '' or '0',
   * which real answers sometimes carry, or '85'); the function still runs. undefined = measure.
   */
  setComputeUtilizationOverride(value: string | undefined): void;
  /** Decide per call whether to answer 403 AccessDenied (S3 GetObject included). undefined = allow all. */
  setAuthorizer(authorizer: Authorizer | undefined): void;
  /** Name the actor behind an access key id (the default actor is the key id itself). */
  setActor(accessKeyId: string, actor: string): void;
  /** Requests received per operation (throttled and faulted ones included). */
  calls(): Record<string, number>;
  resetCalls(): void;
  /** Every publish that changed LIVE, oldest first. */
  publishLog(): PublishLogEntry[];
  clearPublishLog(): void;
}

export interface EmulatorState {
  /** Functions (both stages, code as UTF-8) and tags, sorted by name. */
  snapshot(): FunctionSnapshot[];
  /** Creates (and with `publish: true` publishes) a function without HTTP and without CloudTrail. */
  seed(input: SeedInput): { developmentEtag: string; liveEtag?: string };
  /** Drops every function, distribution and S3 bucket. Controls, variants, counters and logs are untouched. */
  reset(): void;
  /**
   * Stores an object for the emulated S3 (`GET /{bucket}/{key}`, path-style), creating the bucket if
   * needed. Content type defaults to `binary/octet-stream`. Returns the quoted MD5 ETag. Throws
   * RangeError on an invalid bucket name or key.
   */
  putObject(bucket: string, key: string, body: string | Uint8Array, options?: PutObjectOptions): { etag: string };
  deleteObject(bucket: string, key: string): void;
  /** Creates an empty bucket or changes its options (`missingKey: 'AccessDenied'` = a reader without s3:ListBucket). */
  createBucket(bucket: string, options?: BucketOptions): void;
  deleteBucket(bucket: string): void;
  /** Every S3 object (body excluded), sorted by bucket and key. */
  objects(): Array<Omit<S3ObjectView, 'body'> & { size: number }>;
  /**
   * Creates a distribution (default cache behaviour + one behaviour per `pathPatterns` entry), as if
   * made in the console: no HTTP call, no CloudTrail event. ListDistributions then shows it.
   */
  createDistribution(input?: CreateDistributionInput): DistributionView;
  /**
   * Associates a published function (by ARN) with a cache behaviour (`pathPattern` undefined = the
   * default one) for `viewer-request` or `viewer-response`, replacing what that slot held. The
   * function's status becomes DEPLOYED. Throws CloudFrontError InvalidFunctionAssociation (not
   * published, unknown ARN, bad event type), NoSuchDistribution, TooManyDistributionsWithSingleFunctionARN.
   */
  associateFunction(input: AssociateInput): DistributionView;
  /** Removes one association; the last one gone, the function is UNASSOCIATED again. */
  disassociateFunction(input: DisassociateInput): DistributionView;
  deleteDistribution(id: string): void;
  /** Every distribution, sorted by id. */
  distributions(): DistributionView[];
  /** Where a function is associated: (distribution, path pattern, event type) triples. */
  associationsOf(name: string): AssociationSnapshot[];
  /** The state machine itself, for what the helpers above don't cover. */
  readonly model: CloudFrontModel;
}

export interface Emulator {
  /**
   * e.g. http://127.0.0.1:43123 — pass as `endpoint` to CloudFrontClient or `--endpoint-url` to the CLI;
   * also the S3 endpoint (S3Client with `forcePathStyle: true`).
   */
  readonly endpoint: string;
  readonly port: number;
  readonly accountId: string;
  /** Runs `listener` synchronously after each mutating call's answer is written. Returns an unsubscribe. */
  onCloudTrailEvent(listener: (event: CloudTrailEvent) => void): () => void;
  /** Every CloudTrail event produced so far. */
  cloudTrailEvents(): CloudTrailEvent[];
  clearCloudTrailEvents(): void;
  readonly controls: EmulatorControls;
  readonly state: EmulatorState;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = new EmulatorServer(options);
  await server.listen();
  const model = server.model;
  return {
    endpoint: server.endpoint,
    port: server.listeningPort,
    accountId: model.accountId,
    onCloudTrailEvent: (listener) => server.onCloudTrailEvent(listener),
    cloudTrailEvents: () => server.cloudTrailEvents(),
    clearCloudTrailEvents: () => server.clearCloudTrailEvents(),
    controls: {
      setLatency: (latency) => server.setLatency(latency),
      setRateLimit: (limit) => server.setRateLimit(limit),
      setFaults: (settings) => server.setFaults(settings),
      setFunctionQuota: (quota) => {
        model.functionQuota = quota;
      },
      setMaxCodeBytes: (bytes) => {
        model.maxCodeBytes = bytes;
      },
      setNoopPublishPreconditionFailed: (enabled) => {
        model.noopPublishPreconditionFailed = enabled;
      },
      variants: () => model.variants,
      setVariants: (variants) => model.setVariants(variants),
      setTestFunctionBudget: (ms) => server.setTestFunctionBudget(ms),
      testFunctionBudget: () => server.testFunctionBudget,
      setComputeUtilizationOverride: (value) => server.setComputeUtilizationOverride(value),
      setAuthorizer: (authorizer) => server.setAuthorizer(authorizer),
      setActor: (accessKeyId, actor) => server.setActor(accessKeyId, actor),
      calls: () => server.callCounts(),
      resetCalls: () => server.resetCallCounts(),
      publishLog: () => server.publishLog(),
      clearPublishLog: () => server.clearPublishLog(),
    },
    state: {
      snapshot: () => model.snapshot(),
      seed: (input) => model.seed(input),
      reset: () => {
        model.reset();
        server.s3.reset();
      },
      putObject: (bucket, key, body, options) => server.s3.putObject(bucket, key, body, options),
      deleteObject: (bucket, key) => server.s3.deleteObject(bucket, key),
      createBucket: (bucket, options) => server.s3.createBucket(bucket, options),
      deleteBucket: (bucket) => server.s3.deleteBucket(bucket),
      objects: () => server.s3.list(),
      createDistribution: (input) => model.createDistribution(input),
      associateFunction: (input) => model.associateFunction(input),
      disassociateFunction: (input) => model.disassociateFunction(input),
      deleteDistribution: (id) => model.deleteDistribution(id),
      distributions: () => model.distributions(),
      associationsOf: (name) => model.associationsOf(name),
      model,
    },
    close: () => server.close(),
  };
}

export { CloudFrontModel, CloudFrontError, etagForVersion, FIRST_FUNCTION_ETAG } from './model';
export type { FunctionSnapshot, StageSnapshot, SeedInput, ModelOptions, Stage, Tag, AssociationSnapshot } from './model';
export { FUNCTION_EVENT_TYPES } from './distributions';
export type {
  AssociateInput,
  CacheBehaviorView,
  CreateDistributionInput,
  DisassociateInput,
  DistributionView,
  FunctionAssociation,
  FunctionEventType,
} from './distributions';
export {
  ALL_VARIANTS,
  DEFAULT_VARIANTS,
  VARIANT_NAMES,
  VARIANT_VALUES,
  describeVariants,
  parseVariantAssignments,
  resolveVariants,
  variantCombinations,
} from './variants';
export type { PublishSettling, VariantName, VariantValues, Variants } from './variants';
export type { CloudTrailEvent, CloudTrailDetail } from './cloudtrail';
export type { Authorizer, AuthorizationRequest, PublishLogEntry, Operation } from './server';
export type { FaultSettings, Latency, RateLimit } from './faults';
export { SeededRandom } from './faults';
export { DEFAULT_BUDGET_MS, TIMEOUT_MESSAGE, LOG_LIMIT_CHARS } from './runtime';
export { MAX_EVENT_OBJECT_BYTES } from './wire';
export type { BucketOptions, PutObjectOptions, S3ObjectView } from './s3';
