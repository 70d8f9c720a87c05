/**
 * The CloudFront Functions state machine, free of HTTP: functions with a DEVELOPMENT stage and an
 * optional LIVE stage, version ETags, tags, quotas and validation. Every operation either returns a
 * result or throws a CloudFrontError carrying the wire error code and HTTP status, so the server only
 * translates and the rules can be tested (and seeded) directly.
 *
 * Behaviour follows docs/cloudfront-api.md; uncertain points are options, the unconfirmed API
 * behaviours are variants (./variants.ts, emulator/VARIANTS.md). Distributions exist only to hold
 * function associations (./distributions.ts); they decide a function's DEPLOYED status and block its
 * deletion.
 */
import { createHash } from 'node:crypto';
import {
  DistributionStore,
  type AssociateInput,
  type CreateDistributionInput,
  type DisassociateInput,
  type DistributionListInput,
  type DistributionListResult,
  type DistributionView,
} from './distributions';
import { resolveVariants, type Variants } from './variants';
import { ConnectionFunctionStore } from './connection-functions';

export type Stage = 'DEVELOPMENT' | 'LIVE';
export const STAGES: readonly Stage[] = ['DEVELOPMENT', 'LIVE'];
export const RUNTIMES = ['cloudfront-js-1.0', 'cloudfront-js-2.0'] as const;

export interface FunctionConfig {
  comment: string;
  runtime: string;
  /** ARNs of associated KeyValueStores (CloudFront allows at most one). */
  keyValueStoreArns: string[];
}

export interface StageState {
  /** Version number within the function: 1 at create, +1 per update; LIVE carries the published one. */
  version: number;
  etag: string;
  code: Buffer;
  config: FunctionConfig;
  lastModifiedTime: Date;
}

/** A function of either kind: two stages, tags and a publish window. */
export interface StagedRecord {
  name: string;
  createdTime: Date;
  development: StageState;
  live?: StageState;
  tags: Map<string, string>;
  /** Set by a publish under a `statusAfterPublish` variant other than `immediate`. */
  settling?: Settling;
}

type FunctionRecord = StagedRecord;

/** A publish's IN_PROGRESS (PUBLISHING, for connection functions) window. */
export interface Settling {
  untilMs?: number;
  readsLeft?: number;
}

/** What FunctionSummary carries on the wire, for one stage. */
export interface FunctionSummary {
  name: string;
  status: string;
  config: FunctionConfig;
  arn: string;
  stage: Stage;
  createdTime: Date;
  lastModifiedTime: Date;
}

export interface Tag {
  key: string;
  value: string;
}

export { CloudFrontError, errors } from './errors';
import { type CloudFrontError, errors } from './errors';

export interface ModelOptions {
  accountId?: string;
  /** `aws` or `aws-cn`; only changes ARNs. */
  partition?: string;
  /** Functions per account (CloudFront default 100, raisable). */
  functionQuota?: number;
  /** Maximum function code size in bytes (CloudFront quota: 10 KB). */
  maxCodeBytes?: number;
  maxTagsPerResource?: number;
  /**
   * Publishing a function whose LIVE ETag already equals its DEVELOPMENT ETag answers 412
   * (docs/cloudfront-api.md#publish-412-quirk: Terraform provider issue 49572, one report). Default true.
   */
  noopPublishPreconditionFailed?: boolean;
  /** Unconfirmed API behaviours; unspecified ones take DEFAULT_VARIANTS. */
  variants?: Partial<Variants>;
  /** Distributions one function can be associated with (CloudFront quota: 100). */
  maxDistributionsPerFunction?: number;
  now?: () => Date;
}

const NAME = /^[a-zA-Z0-9\-_]{1,64}$/;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ETAG_SHAPE = /^[A-Za-z0-9]+$/;
const RESOURCE_ARN = /^arn:(aws|aws-cn):cloudfront::([0-9]+):(.*)$/;
const COMMENT_MAX = 128;
const FUNCTION_ARN = /^arn:([a-z-]+):cloudfront::([0-9]+):function\/(.*)$/;

/** The first function version's ETag as real accounts show it (docs/cloudfront-api.md: ETags). */
export const FIRST_FUNCTION_ETAG = 'ETVPDKIKX0DER';
const ETAG_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const etagCache: string[] = [FIRST_FUNCTION_ETAG];

/**
 * The ETag of version `version` (1-based) of any function. Real ETags are version tokens, not content
 * hashes: every function walks the same sequence, so version 1 of every function is
 * `ETVPDKIKX0DER` and two functions can share an ETag. After the first, 13-character tokens drawn
 * deterministically from the version number, distinct from all earlier ones.
 */
export function etagForVersion(version: number): string {
  if (!Number.isInteger(version) || version < 1) throw new RangeError(`no ETag for version ${version}`);
  while (etagCache.length < version) {
    const n = etagCache.length + 1;
    for (let salt = 0; ; salt++) {
      const digest = createHash('sha256').update(`cloudfront-function-version/${n}/${salt}`).digest();
      let candidate = 'E';
      for (let i = 0; i < 12; i++) candidate += ETAG_ALPHABET[digest[i]! % ETAG_ALPHABET.length];
      if (!etagCache.includes(candidate)) {
        etagCache.push(candidate);
        break;
      }
    }
  }
  return etagCache[version - 1]!;
}

function copyConfig(config: FunctionConfig): FunctionConfig {
  return { comment: config.comment, runtime: config.runtime, keyValueStoreArns: [...config.keyValueStoreArns] };
}

export interface CreateInput {
  name: string;
  config: FunctionConfig;
  code: Buffer | undefined;
  tags?: Tag[];
}

export interface UpdateInput {
  name: string;
  ifMatch: string | undefined;
  config: FunctionConfig;
  code: Buffer | undefined;
}

export interface ListInput {
  marker?: string;
  maxItems?: string;
  stage?: string;
}

export interface ListResult {
  items: FunctionSummary[];
  maxItems: number;
  nextMarker?: string;
}

export interface StageSnapshot {
  etag: string;
  status: string;
  code: string;
  comment: string;
  runtime: string;
  keyValueStoreArns: string[];
  lastModifiedTime: string;
}

export interface FunctionSnapshot {
  name: string;
  arn: string;
  createdTime: string;
  development: StageSnapshot;
  live?: StageSnapshot;
  tags: Record<string, string>;
}

export interface SeedInput {
  name: string;
  code: string | Buffer;
  comment?: string;
  runtime?: string;
  keyValueStoreArns?: string[];
  tags?: Record<string, string>;
  /** Also publish (LIVE = DEVELOPMENT). */
  publish?: boolean;
}

export interface AssociationSnapshot {
  distributionId: string;
  /** Undefined for the default cache behaviour. */
  pathPattern?: string;
  eventType: string;
}

export class CloudFrontModel {
  readonly accountId: string;
  readonly partition: string;
  functionQuota: number;
  maxCodeBytes: number;
  maxTagsPerResource: number;
  noopPublishPreconditionFailed: boolean;
  maxDistributionsPerFunction: number;
  private currentVariants: Variants;
  private readonly now: () => Date;
  private readonly functions = new Map<string, FunctionRecord>();
  private readonly distributionStore: DistributionStore;
  /** This account's connection functions (./connection-functions.ts). */
  readonly connectionFunctions: ConnectionFunctionStore;

  constructor(options: ModelOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.partition = options.partition ?? 'aws';
    this.functionQuota = options.functionQuota ?? 100;
    this.maxCodeBytes = options.maxCodeBytes ?? 10 * 1024;
    this.maxTagsPerResource = options.maxTagsPerResource ?? 50;
    this.noopPublishPreconditionFailed = options.noopPublishPreconditionFailed ?? true;
    this.maxDistributionsPerFunction = options.maxDistributionsPerFunction ?? 100;
    this.currentVariants = resolveVariants(options.variants);
    this.now = options.now ?? (() => new Date());
    this.distributionStore = new DistributionStore(this.accountId, this.partition, this.now);
    this.connectionFunctions = new ConnectionFunctionStore(this, this.distributionStore, this.now);
  }

  /** The variants in force (all filled in). */
  get variants(): Variants {
    return this.currentVariants;
  }

  /** Changes some variants for the calls that follow; the others keep their current value. */
  setVariants(variants: Partial<Variants>): Variants {
    this.currentVariants = resolveVariants({ ...this.currentVariants, ...variants });
    return this.currentVariants;
  }

  arnFor(name: string): string {
    return `arn:${this.partition}:cloudfront::${this.accountId}:function/${name}`;
  }

  /** @internal */
  newStage(version: number, code: Buffer, config: FunctionConfig): StageState {
    return { version, etag: etagForVersion(version), code, config: copyConfig(config), lastModifiedTime: this.now() };
  }

  createFunction(input: CreateInput): { summary: FunctionSummary; etag: string } {
    this.validateName(input.name);
    this.validateConfig(input.config);
    const code = this.validateCode(input.code);
    const tags = input.tags ?? [];
    // CreateFunction's model has no InvalidTagging, so bad tags here are InvalidArgument.
    const tagProblem = this.tagProblem(tags, tags.length);
    if (tagProblem) throw errors.invalidArgument(tagProblem);
    if (this.functions.has(input.name)) throw errors.alreadyExists(input.name);
    if (this.functions.size >= this.functionQuota) throw errors.tooManyFunctions(this.functionQuota);

    // A re-created function starts its version (and ETag) sequence again.
    const development = this.newStage(1, code, input.config);
    const record: FunctionRecord = {
      name: input.name,
      createdTime: development.lastModifiedTime,
      development,
      tags: new Map(tags.map((t) => [t.key, t.value])),
    };
    this.functions.set(input.name, record);
    return { summary: this.summarize(record, 'DEVELOPMENT'), etag: record.development.etag };
  }

  updateFunction(input: UpdateInput): { summary: FunctionSummary; etag: string } {
    const ifMatch = this.requireIfMatch(input.ifMatch);
    const record = this.get(input.name);
    if (ifMatch !== record.development.etag) throw errors.preconditionFailed();
    this.validateConfig(input.config);
    const code = this.validateCode(input.code);
    // Any write makes a new version, even with identical code: CloudFront does not diff content.
    record.development = this.newStage(record.development.version + 1, code, input.config);
    return { summary: this.summarize(record, 'DEVELOPMENT'), etag: record.development.etag };
  }

  describeFunction(name: string, stage: string | undefined): { summary: FunctionSummary; etag: string } {
    const { record, state, stage: which } = this.stageOf(name, stage);
    return { summary: this.summarize(record, which, this.observeSettling(record, true)), etag: state.etag };
  }

  getFunction(name: string, stage: string | undefined): { code: Buffer; etag: string } {
    const { state } = this.stageOf(name, stage);
    return { code: Buffer.from(state.code), etag: state.etag };
  }

  /** Returns the LIVE summary and the ETag that went live. */
  publishFunction(name: string, ifMatch: string | undefined): { summary: FunctionSummary; etag: string } {
    const match = this.requireIfMatch(ifMatch);
    const record = this.get(name);
    const dev = record.development;
    if (match !== dev.etag) throw errors.preconditionFailed();
    if (this.noopPublishPreconditionFailed && record.live?.version === dev.version) throw errors.preconditionFailed();
    const v = this.currentVariants;
    // Publishing copies the version as is: LIVE gets DEVELOPMENT's ETag and DEVELOPMENT keeps it.
    record.live = {
      version: dev.version,
      etag: dev.etag,
      code: Buffer.from(dev.code),
      config: copyConfig(dev.config),
      lastModifiedTime: v.liveLastModifiedTime === 'publish-time' ? this.now() : dev.lastModifiedTime,
    };
    this.startSettling(record);
    // The publish answer itself is not one of the counted reads.
    return { summary: this.summarize(record, 'LIVE', this.observeSettling(record, false)), etag: dev.etag };
  }

  listFunctions(input: ListInput): ListResult {
    const { page, maxItems, nextMarker } = this.pageStages(this.functions.values(), input);
    // One ListFunctions call is one read of each function on the page, even when both stages are listed.
    const inProgress = new Map<FunctionRecord, boolean>();
    for (const e of page) if (!inProgress.has(e.record)) inProgress.set(e.record, this.observeSettling(e.record, true));
    return {
      items: page.map((e) => this.summarize(e.record, e.stage, inProgress.get(e.record) ?? false)),
      maxItems,
      ...(nextMarker === undefined ? {} : { nextMarker }),
    };
  }

  /**
   * One page of (record, stage) entries, by name then stage (DEVELOPMENT first), for the list calls of
   * both kinds: Stage filter, MaxItems (default 100) and an opaque Marker naming the last entry's
   * position, so deleting the marked record between pages still works.
   * @internal
   */
  pageStages<R extends { name: string; live?: unknown }>(
    records: Iterable<R>,
    input: ListInput,
  ): { page: Array<{ record: R; stage: Stage }>; maxItems: number; nextMarker?: string } {
    const stage = input.stage === undefined || input.stage === '' ? undefined : this.parseStage(input.stage);
    let maxItems = 100;
    if (input.maxItems !== undefined && input.maxItems !== '') {
      if (!/^[0-9]+$/.test(input.maxItems) || Number(input.maxItems) < 1) {
        throw errors.invalidArgument(`Invalid value for MaxItems: ${input.maxItems}`);
      }
      maxItems = Number(input.maxItems);
    }
    const entries: Array<{ record: R; stage: Stage }> = [];
    for (const record of [...records].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      for (const s of STAGES) {
        if (stage && s !== stage) continue;
        if (s === 'LIVE' && !record.live) continue;
        entries.push({ record, stage: s });
      }
    }
    let start = 0;
    if (input.marker) {
      const after = decodeMarker(input.marker);
      if (!after) throw errors.invalidArgument('The marker is not valid.');
      start = entries.findIndex((e) => compareKey(e.record.name, e.stage, after.name, after.stage) > 0);
      if (start === -1) start = entries.length;
    }
    const page = entries.slice(start, start + maxItems);
    const last = page[page.length - 1];
    const more = start + maxItems < entries.length;
    return { page, maxItems, ...(more && last ? { nextMarker: encodeMarker(last.record.name, last.stage) } : {}) };
  }

  deleteFunction(name: string, ifMatch: string | undefined): void {
    const match = this.requireIfMatch(ifMatch);
    const record = this.get(name);
    if (match !== record.development.etag) throw errors.preconditionFailed();
    if (this.distributionStore.usersOf(this.arnFor(name)).length > 0) throw errors.functionInUse(name);
    this.functions.delete(name);
  }

  /** Checks a TestFunction call and returns what to run; running the code is not the model's job. */
  prepareTest(name: string, ifMatch: string | undefined, stage: string | undefined): { summary: FunctionSummary; code: Buffer } {
    const match = this.requireIfMatch(ifMatch);
    const { record, state, stage: which } = this.stageOf(name, stage || 'DEVELOPMENT');
    if (match !== state.etag) throw errors.preconditionFailed();
    return { summary: this.summarize(record, which, this.observeSettling(record, true)), code: Buffer.from(state.code) };
  }

  tagResource(arn: string | undefined, tags: Tag[]): void {
    const record = this.resource(arn);
    const merged = new Map(record.tags);
    for (const t of tags) merged.set(t.key, t.value);
    const problem = this.tagProblem(tags, merged.size);
    if (problem) throw errors.invalidTagging(problem);
    record.tags = merged;
  }

  untagResource(arn: string | undefined, keys: string[]): void {
    const record = this.resource(arn);
    for (const key of keys) {
      if (key.length < 1 || key.length > 128 || !TAG_CHARS.test(key)) throw errors.invalidTagging(`Invalid tag key: ${key}`);
    }
    for (const key of keys) record.tags.delete(key);
  }

  listTagsForResource(arn: string | undefined): Tag[] {
    return [...this.resource(arn).tags].map(([key, value]) => ({ key, value }));
  }

  // ---- distributions (control API: no HTTP call, no CloudTrail event) -------------------------

  createDistribution(input: CreateDistributionInput = {}): DistributionView {
    return this.distributionStore.create(input);
  }

  getDistribution(id: string): DistributionView {
    return this.distributionStore.get(id);
  }

  /** Refuses nothing: a real distribution must be disabled first, which is not modelled. */
  deleteDistribution(id: string): void {
    this.distributionStore.delete(id);
  }

  /**
   * Associates a function's LIVE stage with a cache behaviour for one event type, replacing the
   * function the behaviour had for that event type. Only a published function can be associated
   * (docs/cloudfront-api.md), and only by its ARN in this account.
   */
  associateFunction(input: AssociateInput): DistributionView {
    // The distribution is what a real UpdateDistribution addresses, so it is checked first.
    this.distributionStore.get(input.distributionId);
    const match = FUNCTION_ARN.exec(input.functionArn);
    const name = match?.[3];
    const record = name === undefined ? undefined : this.functions.get(name);
    if (!match || match[1] !== this.partition || match[2] !== this.accountId || !record) {
      throw errors.invalidFunctionAssociation(`The function ARN does not name an existing function of this account: ${input.functionArn}`);
    }
    if (!record.live) throw errors.invalidFunctionAssociation(`The function ${record.name} must be published before it can be associated.`);
    const users = this.distributionStore.usersOf(input.functionArn);
    if (!users.includes(input.distributionId) && users.length >= this.maxDistributionsPerFunction) {
      throw errors.tooManyDistributionsWithSingleFunctionArn(this.maxDistributionsPerFunction);
    }
    return this.distributionStore.setAssociation(input.distributionId, input.pathPattern, input.eventType, input.functionArn);
  }

  /** Removes the association of one event type from a cache behaviour (no-op when there is none). */
  disassociateFunction(input: DisassociateInput): DistributionView {
    return this.distributionStore.setAssociation(input.distributionId, input.pathPattern, input.eventType, undefined);
  }

  listDistributions(input: DistributionListInput = {}): DistributionListResult {
    return this.distributionStore.list(input);
  }

  distributions(): DistributionView[] {
    return this.distributionStore.all();
  }

  /** Where a function runs: one entry per (distribution, cache behaviour, event type). */
  associationsOf(name: string): AssociationSnapshot[] {
    const arn = this.arnFor(name);
    const out: AssociationSnapshot[] = [];
    for (const d of this.distributionStore.all()) {
      for (const b of [d.defaultCacheBehavior, ...d.cacheBehaviors]) {
        for (const a of b.functionAssociations) {
          if (a.functionArn !== arn) continue;
          out.push({ distributionId: d.id, ...(b.pathPattern === undefined ? {} : { pathPattern: b.pathPattern }), eventType: a.eventType });
        }
      }
    }
    return out;
  }

  // ---- direct access for tests -------------------------------------------------------------

  /** Creates (and optionally publishes) a function without an API call: no CloudTrail event. */
  seed(input: SeedInput): { developmentEtag: string; liveEtag?: string } {
    const created = this.createFunction({
      name: input.name,
      config: { comment: input.comment ?? '', runtime: input.runtime ?? 'cloudfront-js-2.0', keyValueStoreArns: input.keyValueStoreArns ?? [] },
      code: Buffer.isBuffer(input.code) ? input.code : Buffer.from(input.code, 'utf8'),
      tags: Object.entries(input.tags ?? {}).map(([key, value]) => ({ key, value })),
    });
    if (!input.publish) return { developmentEtag: created.etag };
    const published = this.publishFunction(input.name, created.etag);
    // A seeded function was published in the past: no IN_PROGRESS window left.
    delete this.functions.get(input.name)!.settling;
    return { developmentEtag: created.etag, liveEtag: published.etag };
  }

  snapshot(): FunctionSnapshot[] {
    return [...this.functions.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => ({
        name: r.name,
        arn: this.arnFor(r.name),
        createdTime: r.createdTime.toISOString(),
        // Peeks at an IN_PROGRESS window without using up one of its reads.
        development: stageSnapshot(r.development, this.statusOf(r, 'DEVELOPMENT', this.observeSettling(r, false))),
        ...(r.live ? { live: stageSnapshot(r.live, this.statusOf(r, 'LIVE', this.observeSettling(r, false))) } : {}),
        tags: Object.fromEntries(r.tags),
      }));
  }

  /** Drops every function, connection function and distribution. */
  reset(): void {
    this.functions.clear();
    this.connectionFunctions.reset();
    this.distributionStore.reset();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private get(name: string): FunctionRecord {
    const record = this.functions.get(name);
    if (!record) throw errors.noSuchFunction(name);
    return record;
  }

  private stageOf(name: string, stage: string | undefined): { record: FunctionRecord; state: StageState; stage: Stage } {
    // The API reference does not say which stage an omitted `Stage` means; DEVELOPMENT is the safe guess.
    const which = stage === undefined || stage === '' ? 'DEVELOPMENT' : this.parseStage(stage);
    const record = this.get(name);
    const state = which === 'LIVE' ? record.live : record.development;
    if (!state) throw errors.noSuchFunction(name);
    return { record, state, stage: which };
  }

  /** @internal */
  parseStage(stage: string): Stage {
    if (stage === 'DEVELOPMENT' || stage === 'LIVE') return stage;
    throw errors.invalidArgument(`Invalid value for Stage: ${stage}. Valid values are DEVELOPMENT and LIVE.`);
  }

  /** @internal */
  requireIfMatch(ifMatch: string | undefined): string {
    if (ifMatch === undefined || !ETAG_SHAPE.test(ifMatch)) throw errors.invalidIfMatch();
    return ifMatch;
  }

  /** @internal */
  validateName(name: string): void {
    if (NAME.test(name)) return;
    if (this.currentVariants.validationError === 'InvalidArgument') {
      throw errors.invalidArgument(`Invalid function name: ${name}. It must match [a-zA-Z0-9-_]{1,64}.`);
    }
    const constraint =
      name.length === 0
        ? 'Member must have length greater than or equal to 1'
        : name.length > 64
          ? 'Member must have length less than or equal to 64'
          : 'Member must satisfy regular expression pattern: [a-zA-Z0-9-_]{1,64}';
    throw errors.malformedXml(`1 validation error detected: Value '${name}' at 'name' failed to satisfy constraint: ${constraint}`);
  }

  /** @internal */
  validateConfig(config: FunctionConfig): void {
    if (config.comment.length > COMMENT_MAX) {
      if (this.currentVariants.validationError === 'InvalidArgument') {
        throw errors.invalidArgument(`The comment is too long: ${config.comment.length} characters, at most ${COMMENT_MAX}.`);
      }
      throw errors.malformedXml(
        `1 validation error detected: Value '${config.comment}' at 'functionConfig.comment' failed to satisfy constraint: Member must have length less than or equal to ${COMMENT_MAX}`,
      );
    }
    if (!(RUNTIMES as readonly string[]).includes(config.runtime)) {
      throw errors.invalidArgument(`Invalid runtime: ${config.runtime}. Valid values are ${RUNTIMES.join(', ')}.`);
    }
    if (config.keyValueStoreArns.length > 1) throw errors.invalidArgument('A function can be associated with at most one KeyValueStore.');
    if (config.keyValueStoreArns.length && config.runtime === 'cloudfront-js-1.0') {
      throw errors.invalidArgument('KeyValueStore associations need the cloudfront-js-2.0 runtime.');
    }
  }

  /** @internal The size error differs between the kinds (FunctionSizeLimitExceeded, EntitySizeLimitExceeded). */
  validateCode(code: Buffer | undefined, member = 'FunctionCode', sizeLimit: (limit: number) => CloudFrontError = errors.sizeLimit): Buffer {
    if (!code || code.length === 0) throw errors.invalidArgument(`${member} is required and must not be empty.`);
    if (code.length > this.maxCodeBytes) throw sizeLimit(this.maxCodeBytes);
    return Buffer.from(code);
  }

  /** @internal */
  tagProblem(tags: Tag[], resultingCount: number): string | undefined {
    for (const { key, value } of tags) {
      if (key.length < 1 || key.length > 128 || !TAG_CHARS.test(key)) return `Invalid tag key: ${JSON.stringify(key)}`;
      if (value.length > 256 || !TAG_CHARS.test(value)) return `Invalid tag value for key ${JSON.stringify(key)}`;
    }
    if (resultingCount > this.maxTagsPerResource) return `A resource can have at most ${this.maxTagsPerResource} tags.`;
    return undefined;
  }

  /** The taggable record an ARN names: a function, or a connection function (`connection-function/<Id>`). */
  private resource(arn: string | undefined): { tags: Map<string, string> } {
    const match = arn === undefined ? null : RESOURCE_ARN.exec(arn);
    if (!match) throw errors.invalidArgument(`Invalid resource ARN: ${arn ?? '(missing)'}`);
    const [, partition, account, rest] = match;
    const name = rest!.startsWith('function/') ? rest!.slice('function/'.length) : undefined;
    const suffix = rest!.startsWith('connection-function/') ? rest!.slice('connection-function/'.length) : undefined;
    const record = name !== undefined ? this.functions.get(name) : suffix !== undefined ? this.connectionFunctions.byArnSuffix(suffix) : undefined;
    // Other resource types (distributions, KeyValueStores...) are not modelled: they never exist here.
    if (partition !== this.partition || account !== this.accountId || !record) throw errors.noSuchResource();
    return record;
  }

  /**
   * Whether the function is inside its IN_PROGRESS window after a publish; `consume` counts this as
   * one read under the `reads` variant. Clears the window once it has passed.
   */
  /** @internal Opens the publish's window under `statusAfterPublish` (none when `immediate`). */
  startSettling(record: { settling?: Settling }): void {
    const settling = this.currentVariants.statusAfterPublish;
    if (settling.kind === 'immediate') delete record.settling;
    else if (settling.kind === 'reads') record.settling = { readsLeft: settling.reads };
    else record.settling = { untilMs: this.now().getTime() + settling.ms };
  }

  /** @internal */
  observeSettling(record: { settling?: Settling }, consume: boolean): boolean {
    const s = record.settling;
    if (!s) return false;
    if (s.untilMs !== undefined) {
      if (this.now().getTime() < s.untilMs) return true;
    } else if ((s.readsLeft ?? 0) > 0) {
      if (consume) s.readsLeft = (s.readsLeft ?? 0) - 1;
      return true;
    }
    delete record.settling;
    return false;
  }

  /**
   * Status is derived, never stored: UNPUBLISHED while DEVELOPMENT holds a version LIVE does not
   * (unless the `developmentStatusAfterAssociatedUpdate` variant says DEPLOYED for an associated
   * function); otherwise IN_PROGRESS inside a publish's window, then DEPLOYED when a distribution
   * uses the function and UNASSOCIATED when none does. LIVE's status never reads UNPUBLISHED.
   */
  private statusOf(record: FunctionRecord, stage: Stage, inProgress: boolean): string {
    const associated = this.distributionStore.usersOf(this.arnFor(record.name)).length > 0;
    if (stage === 'DEVELOPMENT' && record.live?.version !== record.development.version) {
      return associated && this.currentVariants.developmentStatusAfterAssociatedUpdate === 'DEPLOYED' ? 'DEPLOYED' : 'UNPUBLISHED';
    }
    if (inProgress) return 'IN_PROGRESS';
    return associated ? 'DEPLOYED' : 'UNASSOCIATED';
  }

  private summarize(record: FunctionRecord, stage: Stage, inProgress = false): FunctionSummary {
    const state = stage === 'LIVE' ? record.live! : record.development;
    return {
      name: record.name,
      status: this.statusOf(record, stage, inProgress),
      config: copyConfig(state.config),
      arn: this.arnFor(record.name),
      stage,
      createdTime: record.createdTime,
      lastModifiedTime: state.lastModifiedTime,
    };
  }
}

function stageSnapshot(s: StageState, status: string): StageSnapshot {
  return {
    etag: s.etag,
    status,
    code: s.code.toString('utf8'),
    comment: s.config.comment,
    runtime: s.config.runtime,
    keyValueStoreArns: [...s.config.keyValueStoreArns],
    lastModifiedTime: s.lastModifiedTime.toISOString(),
  };
}

function compareKey(nameA: string, stageA: Stage, nameB: string, stageB: Stage): number {
  if (nameA !== nameB) return nameA < nameB ? -1 : 1;
  return STAGES.indexOf(stageA) - STAGES.indexOf(stageB);
}

function encodeMarker(name: string, stage: Stage): string {
  return Buffer.from(`${name}/${stage}`, 'utf8').toString('base64url');
}

function decodeMarker(marker: string): { name: string; stage: Stage } | undefined {
  const [name, stage, extra] = Buffer.from(marker, 'base64url').toString('utf8').split('/');
  if (extra !== undefined || !name || !NAME.test(name) || (stage !== 'DEVELOPMENT' && stage !== 'LIVE')) return undefined;
  return { name, stage };
}
