/**
 * Connection functions: CloudFront's second kind of function, run during the TLS handshake of a
 * distribution with viewer mutual TLS. The same two stages as the ordinary kind (DEVELOPMENT, then LIVE
 * after a publish), but addressed by an Id, with their own errors (the generic Entity* ones), one per
 * distribution rather than per cache behaviour, and a flat summary (docs/cloudfront-api.md,
 * "Connection functions").
 *
 * One store per account, owned by that account's CloudFrontModel, whose validation (names, config,
 * code size, tags, If-Match), list paging and publish window it reuses: the two kinds differ in
 * addressing, errors and statuses, not in those rules. The unconfirmed behaviours are variants
 * (connectionLiveEtag, connectionDevelopmentStatus, connectionIdentifier; emulator/VARIANTS.md).
 */
import { createHash } from 'node:crypto';
import type { DistributionListInput, DistributionListResult, DistributionStore, DistributionView } from './distributions';
import { errors } from './errors';
// Types only: model.ts owns this store, so a value import would be circular.
import type { CloudFrontModel, FunctionConfig, ListInput, Stage, StagedRecord, StageState, Tag } from './model';

/** What ConnectionFunctionSummary carries on the wire, for one stage. */
export interface ConnectionFunctionSummary {
  name: string;
  id: string;
  config: FunctionConfig;
  arn: string;
  status: string;
  stage: Stage;
  createdTime: Date;
  lastModifiedTime: Date;
}

export interface ConnectionFunctionListResult {
  items: ConnectionFunctionSummary[];
  nextMarker?: string;
}

export interface ConnectionStageSnapshot {
  etag: string;
  status: string;
  code: string;
  comment: string;
  runtime: string;
  lastModifiedTime: string;
}

export interface ConnectionFunctionSnapshot {
  id: string;
  name: string;
  arn: string;
  createdTime: string;
  development: ConnectionStageSnapshot;
  live?: ConnectionStageSnapshot;
  tags: Record<string, string>;
}

export interface ConnectionSeedInput {
  name: string;
  code: string | Buffer;
  comment?: string;
  tags?: Record<string, string>;
  /** Also publish (LIVE = DEVELOPMENT), "in the past": no PUBLISHING window. */
  publish?: boolean;
}

export interface ConnectionSeedResult {
  id: string;
  arn: string;
  developmentEtag: string;
  liveEtag?: string;
}

interface ConnectionFunctionRecord extends StagedRecord {
  id: string;
}

/** The only runtime connection functions take (Developer Guide, create-connection-functions.html). */
export const CONNECTION_FUNCTION_RUNTIME = 'cloudfront-js-2.0';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * A connection function Id: `cf_` and 27 base-62 characters, the shape of the Developer Guide's
 * example (`cf_30c2CV2elHwCoInb3LtcaUJkZeD`, connection-functions.html; the model only says 1-64
 * characters). Drawn deterministically from the account and a per-account counter, so a re-created
 * function gets a new Id and test runs repeat.
 */
export function connectionFunctionId(accountId: string, counter: number): string {
  const digest = createHash('sha256').update(`connection-function/${accountId}/${counter}`).digest();
  let id = 'cf_';
  for (let i = 0; i < 27; i++) id += BASE62[digest[i]! % BASE62.length];
  return id;
}

/** LIVE's ETag of a published version under `connectionLiveEtag: distinct`: never one of DEVELOPMENT's. */
export function distinctLiveEtag(version: number): string {
  const digest = createHash('sha256').update(`connection-function-live/${version}`).digest();
  let etag = 'L';
  for (let i = 0; i < 12; i++) etag += BASE62[digest[i]! % 36]!.toUpperCase();
  return etag;
}

export class ConnectionFunctionStore {
  /** Connection functions per account (not published; the ordinary kind's default of 100 is the emulator's choice). */
  quota = 100;
  private readonly records = new Map<string, ConnectionFunctionRecord>();
  private counter = 0;

  constructor(
    private readonly model: CloudFrontModel,
    private readonly distributions: DistributionStore,
    private readonly now: () => Date,
  ) {}

  /** `arn:aws:cloudfront::<account>:connection-function/<Id>`, or `/<Name>` under `connectionArn: name`. */
  arnFor(record: { id: string; name: string }): string {
    return `${this.arnPrefix()}${this.model.variants.connectionArn === 'name' ? record.name : record.id}`;
  }

  /** The function whose ARN ends with `suffix` (after `connection-function/`), as the `connectionArn` variant builds ARNs. */
  byArnSuffix(suffix: string): ConnectionFunctionRecord | undefined {
    return [...this.records.values()].find((r) => this.arnFor(r) === `${this.arnPrefix()}${suffix}`);
  }

  private arnPrefix(): string {
    return `arn:${this.model.partition}:cloudfront::${this.model.accountId}:connection-function/`;
  }

  create(input: { name: string; config: FunctionConfig; code: Buffer | undefined; tags?: Tag[] }): { summary: ConnectionFunctionSummary; etag: string } {
    this.model.validateName(input.name);
    this.validateConfig(input.config);
    const code = this.validateCode(input.code);
    const tags = input.tags ?? [];
    // Unlike CreateFunction, CreateConnectionFunction's model lists InvalidTagging.
    const tagProblem = this.model.tagProblem(tags, tags.length);
    if (tagProblem) throw errors.invalidTagging(tagProblem);
    if ([...this.records.values()].some((r) => r.name === input.name)) throw errors.entityAlreadyExists(input.name);
    if (this.records.size >= this.quota) throw errors.entityLimitExceeded(this.quota);
    this.counter += 1;
    const id = connectionFunctionId(this.model.accountId, this.counter);
    const development = this.model.newStage(1, code, input.config);
    const record: ConnectionFunctionRecord = {
      id,
      name: input.name,
      createdTime: development.lastModifiedTime,
      development,
      tags: new Map(tags.map((t) => [t.key, t.value])),
    };
    this.records.set(id, record);
    return { summary: this.summarize(record, 'DEVELOPMENT'), etag: development.etag };
  }

  update(input: { id: string; ifMatch: string | undefined; config: FunctionConfig; code: Buffer | undefined }): {
    summary: ConnectionFunctionSummary;
    etag: string;
  } {
    const ifMatch = this.model.requireIfMatch(input.ifMatch);
    const record = this.get(input.id);
    if (ifMatch !== record.development.etag) throw errors.preconditionFailed();
    this.validateConfig(input.config);
    const code = this.validateCode(input.code);
    record.development = this.model.newStage(record.development.version + 1, code, input.config);
    return { summary: this.summarize(record, 'DEVELOPMENT'), etag: record.development.etag };
  }

  /** DescribeConnectionFunction: `identifier` per the `connectionIdentifier` variant. */
  describe(identifier: string, stage: string | undefined): { summary: ConnectionFunctionSummary; etag: string } {
    const { record, state, stage: which } = this.stageOf(this.resolve(identifier), identifier, stage);
    return { summary: this.summarize(record, which, this.model.observeSettling(record, true)), etag: state.etag };
  }

  /** GetConnectionFunction: carries no status, so it is not one of the counted reads. */
  getCode(identifier: string, stage: string | undefined): { code: Buffer; etag: string } {
    const { state } = this.stageOf(this.resolve(identifier), identifier, stage);
    return { code: Buffer.from(state.code), etag: state.etag };
  }

  /** Returns the LIVE summary and LIVE's ETag (DEVELOPMENT's, unless `connectionLiveEtag: distinct`). */
  publish(id: string, ifMatch: string | undefined): { summary: ConnectionFunctionSummary; etag: string } {
    const match = this.model.requireIfMatch(ifMatch);
    const record = this.get(id);
    const dev = record.development;
    if (match !== dev.etag) throw errors.preconditionFailed();
    if (this.model.noopPublishPreconditionFailed && record.live?.version === dev.version) throw errors.preconditionFailed();
    const v = this.model.variants;
    record.live = {
      version: dev.version,
      etag: v.connectionLiveEtag === 'distinct' ? distinctLiveEtag(dev.version) : dev.etag,
      code: Buffer.from(dev.code),
      config: { ...dev.config, keyValueStoreArns: [...dev.config.keyValueStoreArns] },
      lastModifiedTime: v.liveLastModifiedTime === 'publish-time' ? this.now() : dev.lastModifiedTime,
    };
    this.model.startSettling(record);
    return { summary: this.summarize(record, 'LIVE', this.model.observeSettling(record, false)), etag: record.live.etag };
  }

  /** ListConnectionFunctions: the same order, paging and Marker form as ListFunctions; one call is one read of each function listed. */
  list(input: ListInput): ConnectionFunctionListResult {
    const { page, nextMarker } = this.model.pageStages(this.records.values(), input);
    const inProgress = new Map<ConnectionFunctionRecord, boolean>();
    for (const e of page) if (!inProgress.has(e.record)) inProgress.set(e.record, this.model.observeSettling(e.record, true));
    return {
      items: page.map((e) => this.summarize(e.record, e.stage, inProgress.get(e.record) ?? false)),
      ...(nextMarker === undefined ? {} : { nextMarker }),
    };
  }

  /** Returns the deleted function's name (the CloudTrail record may name it). */
  delete(id: string, ifMatch: string | undefined): { name: string } {
    const match = this.model.requireIfMatch(ifMatch);
    const record = this.get(id);
    if (match !== record.development.etag) throw errors.preconditionFailed();
    if (this.distributions.usersOfConnectionFunction(id).length > 0) throw errors.cannotDeleteEntityWhileInUse(id);
    this.records.delete(id);
    return { name: record.name };
  }

  /** Checks a TestConnectionFunction call (If-Match = that stage's ETag) and returns what to run. */
  prepareTest(id: string, ifMatch: string | undefined, stage: string | undefined): { summary: ConnectionFunctionSummary; code: Buffer } {
    const match = this.model.requireIfMatch(ifMatch);
    const { record, state, stage: which } = this.stageOf(this.get(id), id, stage || 'DEVELOPMENT');
    if (match !== state.etag) throw errors.preconditionFailed();
    return { summary: this.summarize(record, which, this.model.observeSettling(record, true)), code: Buffer.from(state.code) };
  }

  /** ListDistributionsByConnectionFunction: `identifier` per the `connectionIdentifier` variant. */
  distributionsOf(identifier: string | undefined, input: DistributionListInput): DistributionListResult {
    if (identifier === undefined || identifier === '') throw errors.invalidArgument('ConnectionFunctionIdentifier is required.');
    const record = this.resolve(identifier);
    if (!record) throw errors.entityNotFound(identifier);
    const users = new Set(this.distributions.usersOfConnectionFunction(record.id));
    return this.distributions.list(input, (id) => users.has(id));
  }

  /**
   * Makes a distribution (with viewer mTLS) run this connection function, replacing the one it had.
   * Only a published function can be associated (Developer Guide, associate-connection-functions.html);
   * the error for the others is not documented: InvalidArgument here.
   */
  associate(input: { distributionId: string; connectionFunctionId: string }): DistributionView {
    this.distributions.get(input.distributionId);
    const record = this.records.get(input.connectionFunctionId);
    if (!record) throw errors.invalidArgument(`The connection function does not exist in this account: ${input.connectionFunctionId}`);
    if (!record.live) throw errors.invalidArgument(`The connection function ${record.id} must be published before it can be associated.`);
    return this.distributions.setConnectionFunction(input.distributionId, record.id);
  }

  disassociate(distributionId: string): DistributionView {
    return this.distributions.setConnectionFunction(distributionId, undefined);
  }

  /** Creates (and optionally publishes) a connection function without an API call: no CloudTrail event. */
  seed(input: ConnectionSeedInput): ConnectionSeedResult {
    const created = this.create({
      name: input.name,
      config: { comment: input.comment ?? '', runtime: CONNECTION_FUNCTION_RUNTIME, keyValueStoreArns: [] },
      code: Buffer.isBuffer(input.code) ? input.code : Buffer.from(input.code, 'utf8'),
      tags: Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
    const id = created.summary.id;
    const out: ConnectionSeedResult = { id, arn: created.summary.arn, developmentEtag: created.etag };
    if (!input.publish) return out;
    const published = this.publish(id, created.etag);
    delete this.records.get(id)!.settling;
    return { ...out, liveEtag: published.etag };
  }

  /** Every connection function, sorted by name; peeks at a PUBLISHING window without using a read. */
  snapshot(): ConnectionFunctionSnapshot[] {
    return [...this.records.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => {
        const inProgress = this.model.observeSettling(r, false);
        const stage = (s: StageState, which: Stage): ConnectionStageSnapshot => ({
          etag: s.etag,
          status: this.statusOf(r, which, inProgress),
          code: s.code.toString('utf8'),
          comment: s.config.comment,
          runtime: s.config.runtime,
          lastModifiedTime: s.lastModifiedTime.toISOString(),
        });
        return {
          id: r.id,
          name: r.name,
          arn: this.arnFor(r),
          createdTime: r.createdTime.toISOString(),
          development: stage(r.development, 'DEVELOPMENT'),
          ...(r.live ? { live: stage(r.live, 'LIVE') } : {}),
          tags: Object.fromEntries(r.tags),
        };
      });
  }

  reset(): void {
    this.records.clear();
    this.counter = 0;
  }

  // ---- helpers -----------------------------------------------------------------------------

  private get(id: string): ConnectionFunctionRecord {
    const record = this.records.get(id);
    if (!record) throw errors.entityNotFound(id);
    return record;
  }

  /** An Identifier: the Id, or (variant `id-name-or-arn`) the name or the ARN. */
  private resolve(identifier: string): ConnectionFunctionRecord | undefined {
    const byId = this.records.get(identifier);
    if (byId || this.model.variants.connectionIdentifier === 'id-only') return byId;
    if (identifier.startsWith(this.arnPrefix())) return this.byArnSuffix(identifier.slice(this.arnPrefix().length));
    return [...this.records.values()].find((r) => r.name === identifier);
  }

  private stageOf(
    record: ConnectionFunctionRecord | undefined,
    identifier: string,
    stage: string | undefined,
  ): { record: ConnectionFunctionRecord; state: StageState; stage: Stage } {
    const which: Stage = stage === undefined || stage === '' ? 'DEVELOPMENT' : this.model.parseStage(stage);
    const state = which === 'LIVE' ? record?.live : record?.development;
    if (!record || !state) throw errors.entityNotFound(identifier);
    return { record, state, stage: which };
  }

  private validateConfig(config: FunctionConfig): void {
    this.model.validateConfig(config);
    if (config.runtime !== CONNECTION_FUNCTION_RUNTIME) {
      throw errors.invalidArgument(`Invalid runtime: ${config.runtime}. Connection functions support ${CONNECTION_FUNCTION_RUNTIME} only.`);
    }
  }

  private validateCode(code: Buffer | undefined): Buffer {
    return this.model.validateCode(code, 'ConnectionFunctionCode', errors.entitySizeLimitExceeded);
  }

  /**
   * Derived, never stored. DEVELOPMENT: `UNPUBLISHED` while it holds a version LIVE does not (always,
   * under `connectionDevelopmentStatus: always-UNPUBLISHED`); otherwise as LIVE: `PUBLISHING` inside a
   * publish's window, then `DEPLOYED` when a distribution runs the function, `UNASSOCIATED` when none.
   */
  private statusOf(record: ConnectionFunctionRecord, stage: Stage, inProgress: boolean): string {
    if (stage === 'DEVELOPMENT') {
      if (this.model.variants.connectionDevelopmentStatus === 'always-UNPUBLISHED') return 'UNPUBLISHED';
      if (record.live?.version !== record.development.version) return 'UNPUBLISHED';
    }
    if (inProgress) return 'PUBLISHING';
    return this.distributions.usersOfConnectionFunction(record.id).length > 0 ? 'DEPLOYED' : 'UNASSOCIATED';
  }

  private summarize(record: ConnectionFunctionRecord, stage: Stage, inProgress = false): ConnectionFunctionSummary {
    const state = stage === 'LIVE' ? record.live! : record.development;
    return {
      name: record.name,
      id: record.id,
      config: { ...state.config, keyValueStoreArns: [...state.config.keyValueStoreArns] },
      arn: this.arnFor(record),
      status: this.statusOf(record, stage, inProgress),
      stage,
      createdTime: record.createdTime,
      lastModifiedTime: state.lastModifiedTime,
    };
  }
}
