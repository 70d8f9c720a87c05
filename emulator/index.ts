/**
 * Public entry of the embedded CloudFront Functions emulator.
 *
 *   const cf = await startEmulator({ accountId: '123456789012' });
 *   new CloudFrontClient({ endpoint: cf.endpoint, region: 'us-east-1', credentials: {...} });
 *   cf.onCloudTrailEvent((e) => bus.put(e));
 *   ...
 *   await cf.close();
 *
 * Organisation mode (emulator/ORGANIZATIONS.md): `addAccount` adds member accounts, `iam` binds keys
 * to principals and creates roles, STS AssumeRole hands out keys whose calls land in the role's
 * account, Organizations ListAccounts lists them all. The home account (`accountId`) is the
 * management account; `state`, `controls` and `accountId` keep meaning it.
 */
import { EmulatorServer, type Authorizer, type PublishLogEntry, type ServerOptions } from './server';
import type { CloudTrailEvent } from './cloudtrail';
import type { FaultSettings, Latency, RateLimit } from './faults';
import type { AssociationSnapshot, CloudFrontModel, FunctionSnapshot, SeedInput } from './model';
import type { AssociateInput, CreateDistributionInput, DisassociateInput, DistributionView } from './distributions';
import type { ConnectionFunctionSnapshot, ConnectionSeedInput, ConnectionSeedResult } from './connection-functions';
import type { Variants } from './variants';
import type { BucketOptions, PutObjectOptions, RefusedWrite, S3ObjectView } from './s3';
import type { AccountStatus, AddAccountOptions } from './accounts';
import type { RoleInput, RoleView } from './iam';
import type { AssumeRoleCall } from './sts';
import type { OrganizationAccount } from './organizations';
import type { SsmFault, SsmParameterView } from './ssm';
import { accountControls, accountState } from './views';

export type EmulatorOptions = ServerOptions;

export interface EmulatorControls {
  /** Delay before every answer: fixed ms or a uniform {min,max} range; undefined = none. */
  setLatency(latency: Latency | undefined): void;
  /**
   * Token bucket per account: the same limit for every account (and those added later), each with its
   * own bucket. Over the limit → 400 Throttling "Rate exceeded". undefined = off.
   */
  setRateLimit(limit: RateLimit | undefined): void;
  /** Seeded random 500 InternalError / 503 ServiceUnavailable. undefined = off. */
  setFaults(settings: FaultSettings | undefined): void;
  /** Every account's (and those added later). */
  setFunctionQuota(quota: number): void;
  /** Every account's (and those added later). */
  setMaxCodeBytes(bytes: number): void;
  /** Publish of an in-sync function answers 412 (Terraform issue 49572). Default on. Every account's. */
  setNoopPublishPreconditionFailed(enabled: boolean): void;
  /** The unconfirmed-behaviour variants in force in the home account (see emulator/VARIANTS.md). */
  variants(): Variants;
  /**
   * Changes the given variants for the calls that follow, in every account (and those added later);
   * returns the home account's. Throws RangeError on a bad value.
   */
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
  /**
   * Every S3 PutObject fails with this (AccessDenied 403, or ServiceUnavailable 503) until cleared with
   * undefined; reads go on working. What a bucket policy, an SCP or an S3 outage does to a writer.
   */
  refuseS3Writes(refusal: RefusedWrite | undefined): void;
  /** Name the actor behind an access key id (the default actor is the key id itself). */
  setActor(accessKeyId: string, actor: string): void;
  /**
   * Requests received per operation (throttled and faulted ones included), every account's, STS and
   * Organizations included.
   */
  calls(): Record<string, number>;
  /** Clears every count, the accounts' own included. */
  resetCalls(): void;
  /**
   * Keep (true: from now, what was kept is cleared) or stop keeping each CloudFront call's CPU time,
   * TestFunction's run in its thread aside (emulator/server.ts, recordCallCpu, says how it is measured).
   */
  recordCallCpu(on: boolean): void;
  /** The CPU microseconds kept per call, by operation, in the order the calls ended. */
  callCpu(): Record<string, number[]>;
  /** TCP connections the emulator accepted since it started (every service, every account). */
  connections(): number;
  /** Every publish that changed LIVE, oldest first, in every account (`account` says which). */
  publishLog(): PublishLogEntry[];
  clearPublishLog(): void;
}

/** One account's own controls: they override the top-level ones for this account alone. */
export interface AccountControls {
  /** This account's token bucket (undefined = no limit here), until the next top-level setRateLimit. */
  setRateLimit(limit: RateLimit | undefined): void;
  /** CloudFront requests made in this account, per operation (STS, Organizations and S3 not included). */
  calls(): Record<string, number>;
  resetCalls(): void;
  /** This account's publishes. */
  publishLog(): PublishLogEntry[];
  clearPublishLog(): void;
  /** Changes variants in this account only; returns its variants. */
  setVariants(variants: Partial<Variants>): Variants;
  variants(): Variants;
}

export interface EmulatorState {
  /** Functions (both stages, code as UTF-8) and tags, sorted by name. */
  snapshot(): FunctionSnapshot[];
  /** Creates (and with `publish: true` publishes) a function without HTTP and without CloudTrail. */
  seed(input: SeedInput): { developmentEtag: string; liveEtag?: string };
  /**
   * Drops every function and distribution of this account; the home account's reset also drops every
   * S3 bucket (S3 is one store for all accounts). Controls, variants, counters and logs are untouched.
   */
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
  /**
   * Creates (and with `publish: true` publishes) a connection function without HTTP and without
   * CloudTrail; returns its Id (`cf_` + 27 base-62 characters), ARN and ETags. Runtime cloudfront-js-2.0.
   */
  seedConnectionFunction(input: ConnectionSeedInput): ConnectionSeedResult;
  /** Connection functions (both stages, code as UTF-8, Id, tags), sorted by name; peeks without using a read. */
  connectionFunctions(): ConnectionFunctionSnapshot[];
  /**
   * Makes a distribution run a published connection function (one per distribution, replacing any):
   * the function's status becomes DEPLOYED and ListDistributionsByConnectionFunction lists the
   * distribution. The distribution needs viewer mTLS (`createDistribution({ viewerMtls: {} })`).
   * Throws CloudFrontError InvalidArgument (unknown or unpublished function, no viewer mTLS) or
   * NoSuchDistribution. No CloudTrail event.
   */
  associateConnectionFunction(input: { distributionId: string; connectionFunctionId: string }): DistributionView;
  /** Removes the distribution's connection function (no-op when it has none). */
  disassociateConnectionFunction(distributionId: string): DistributionView;
  /** The state machine itself, for what the helpers above don't cover. */
  readonly model: CloudFrontModel;
}

export interface EmulatorAccount {
  readonly accountId: string;
  /** This account's CloudFront state (S3 is shared: its helpers reach the one global store). */
  readonly state: EmulatorState;
  readonly controls: AccountControls;
  /** Organizations' State (and Status) of the account; CloudFront keeps answering a SUSPENDED one. */
  setState(state: AccountStatus): void;
}

export interface EmulatorIam {
  /**
   * Binds a static access key to a principal: `arn:aws:iam::<acct>:user/<name>`, `…:role/<name>` (a
   * session of that role named after the key, which never expires) or
   * `arn:aws:sts::<acct>:assumed-role/<role>/<session>`. Its calls then land in that account.
   * RangeError for another ARN or an account the emulator does not serve.
   */
  setPrincipal(accessKeyId: string, principalArn: string): void;
  /**
   * A role STS can hand sessions of to the principals it trusts: exact principal ARNs (a role's ARN
   * trusts its sessions) or `arn:aws:iam::<acct>:root` for any principal of that account. RangeError
   * for an unknown account, a bad name, a bad ARN or an existing role.
   */
  createRole(input: RoleInput): RoleView;
  /** Sessions already issued keep working until they expire. RangeError when there is no such role. */
  deleteRole(account: string, roleName: string): void;
  roles(): RoleView[];
}

export interface EmulatorSts {
  /** The longest session AssumeRole grants (900-43200, default 3600); longer requests are cut to it. */
  setMaxSessionSeconds(seconds: number): void;
  maxSessionSeconds(): number;
  /** Every AssumeRole that passed validation, oldest first. */
  assumeRoleCalls(): AssumeRoleCall[];
  clearAssumeRoleCalls(): void;
}

export interface EmulatorOrganization {
  /** `o-` and 10 lowercase letters or digits (stable: derived from the home account), or `options.organizationId`. */
  readonly id: string;
  /** The home account. */
  readonly managementAccountId: string;
  /** What ListAccounts lists, in creation order. */
  accounts(): OrganizationAccount[];
}

/** SSM Parameter Store (emulator/ssm.ts): String parameters, one store per account. */
export interface EmulatorSsm {
  /** Puts or overwrites a parameter (default: in the home account), as if from the console; returns its version. */
  putParameter(name: string, value: string, account?: string): number;
  getParameter(name: string, account?: string): SsmParameterView | undefined;
  deleteParameter(name: string, account?: string): void;
  /** Every SSM call answers this error until cleared (undefined): a refused role, an outage. */
  setFault(fault: SsmFault | undefined): void;
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
  /** The home account's state; S3 helpers reach the one global store. */
  readonly state: EmulatorState;
  readonly controls: EmulatorControls;
  /** A member account: RangeError unless 12 digits or if it exists. */
  addAccount(accountId: string, options?: AddAccountOptions): EmulatorAccount;
  /** Any account the emulator serves, the home one included; RangeError for another. */
  account(accountId: string): EmulatorAccount;
  /** Every account id: the home account first, then in creation order. */
  accounts(): string[];
  /** `state.reset()` for every account (and S3). IAM roles, bound keys and issued sessions stay. */
  resetAll(): void;
  readonly iam: EmulatorIam;
  readonly sts: EmulatorSts;
  readonly organization: EmulatorOrganization;
  /** Also served on `endpoint` (SSMClient's endpoint, `aws ssm --endpoint-url`). */
  readonly ssm: EmulatorSsm;
  close(): Promise<void>;
}

export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const server = new EmulatorServer(options);
  await server.listen();
  const { accounts, iam, sts, organization } = server;
  const model = server.model;
  // One view per account, made on first use, so account(id) always hands back the same object.
  const views = new Map<string, EmulatorAccount>();
  const view = (accountId: string): EmulatorAccount => {
    const account = accounts.get(accountId);
    let v = views.get(accountId);
    if (!v) {
      v = {
        accountId,
        state: accountState(server, account, account === accounts.home),
        controls: accountControls(server, account),
        setState: (state) => account.setStatus(state),
      };
      views.set(accountId, v);
    }
    return v;
  };
  const home = view(model.accountId);
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
      setFunctionQuota: (quota) => accounts.configure({ functionQuota: quota }),
      setMaxCodeBytes: (bytes) => accounts.configure({ maxCodeBytes: bytes }),
      setNoopPublishPreconditionFailed: (enabled) => accounts.configure({ noopPublishPreconditionFailed: enabled }),
      variants: () => model.variants,
      setVariants: (variants) => accounts.setVariants(variants),
      setTestFunctionBudget: (ms) => server.setTestFunctionBudget(ms),
      testFunctionBudget: () => server.testFunctionBudget,
      setComputeUtilizationOverride: (value) => server.setComputeUtilizationOverride(value),
      setAuthorizer: (authorizer) => server.setAuthorizer(authorizer),
      refuseS3Writes: (refusal) => {
        server.s3.refuseWrites = refusal;
      },
      setActor: (accessKeyId, actor) => server.setActor(accessKeyId, actor),
      calls: () => server.callCounts(),
      resetCalls: () => server.resetCallCounts(),
      recordCallCpu: (on) => server.recordCallCpu(on),
      callCpu: () => server.callCpuSamples(),
      connections: () => server.connectionsAccepted,
      publishLog: () => server.publishLog(),
      clearPublishLog: () => server.clearPublishLog(),
    },
    state: home.state,
    addAccount: (accountId, accountOptions) => view(accounts.add(accountId, accountOptions).accountId),
    account: view,
    accounts: () => accounts.ids(),
    resetAll: () => {
      for (const account of accounts.all()) account.model.reset();
      server.s3.reset();
      server.ssm.reset();
    },
    iam: {
      setPrincipal: (accessKeyId, principalArn) => {
        iam.setPrincipal(accessKeyId, principalArn);
      },
      createRole: (input) => iam.createRole(input),
      deleteRole: (account, roleName) => iam.deleteRole(account, roleName),
      roles: () => iam.roles(),
    },
    sts: {
      setMaxSessionSeconds: (seconds) => sts.setMaxSessionSeconds(seconds),
      maxSessionSeconds: () => sts.maxSessionSeconds,
      assumeRoleCalls: () => sts.assumeRoleCalls(),
      clearAssumeRoleCalls: () => sts.clearAssumeRoleCalls(),
    },
    ssm: {
      putParameter: (name, value, account) => server.ssm.put(account ?? model.accountId, name, value),
      getParameter: (name, account) => server.ssm.get(account ?? model.accountId, name),
      deleteParameter: (name, account) => server.ssm.delete(account ?? model.accountId, name),
      setFault: (fault) => server.ssm.setFault(fault),
    },
    organization: {
      id: organization.id,
      managementAccountId: organization.managementAccountId,
      accounts: () => organization.listAccounts(),
    },
    close: () => server.close(),
  };
}

export { CloudFrontModel, CloudFrontError, etagForVersion, FIRST_FUNCTION_ETAG } from './model';
export type { FunctionSnapshot, StageSnapshot, SeedInput, ModelOptions, Stage, Tag, AssociationSnapshot } from './model';
export { FUNCTION_EVENT_TYPES } from './distributions';
export { CONNECTION_FUNCTION_RUNTIME, connectionFunctionId } from './connection-functions';
export type {
  ConnectionFunctionSnapshot,
  ConnectionFunctionSummary,
  ConnectionSeedInput,
  ConnectionSeedResult,
  ConnectionStageSnapshot,
} from './connection-functions';
export { runConnectionFunction } from './connection-runtime';
export type { ConnectionDecision, ConnectionTestRun } from './connection-runtime';
export type {
  AssociateInput,
  CacheBehaviorView,
  CreateDistributionInput,
  DisassociateInput,
  DistributionView,
  FunctionAssociation,
  FunctionEventType,
  ViewerMtls,
} from './distributions';
export {
  ALL_VARIANTS,
  CLOUDTRAIL_VARIANT_NAMES,
  CONNECTION_VARIANT_NAMES,
  cloudFrontCombinations,
  connectionCombinations,
  connectionRecordShapeCombinations,
  DEFAULT_VARIANTS,
  VARIANT_NAMES,
  VARIANT_VALUES,
  describeVariants,
  parseVariantAssignments,
  recordShapeCombinations,
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
export type { BucketOptions, PutObjectOptions, RefusedWrite, S3ObjectView } from './s3';
export type { AccountStatus, AddAccountOptions } from './accounts';
export type { RoleInput, RoleView } from './iam';
export type { AssumeRoleCall } from './sts';
export type { OrganizationAccount } from './organizations';
export type { SsmFault, SsmParameterView } from './ssm';
