/**
 * The CloudFront Functions state machine, free of HTTP: functions with a DEVELOPMENT stage and an
 * optional LIVE stage, version ETags, tags, quotas and validation. Every operation either returns a
 * result or throws a CloudFrontError carrying the wire error code and HTTP status, so the server only
 * translates and the rules can be tested (and seeded) directly.
 *
 * Behaviour follows /work/shared/docs/cloudfront-functions.md; uncertain points are options.
 */

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
  etag: string;
  code: Buffer;
  config: FunctionConfig;
  status: string;
  lastModifiedTime: Date;
}

interface FunctionRecord {
  name: string;
  createdTime: Date;
  development: StageState;
  live?: StageState;
  tags: Map<string, string>;
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

export class CloudFrontError extends Error {
  override name = 'CloudFrontError';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(message);
  }

  /** The ErrorResponse `<Type>`: who is at fault. */
  get type(): 'Sender' | 'Receiver' {
    return this.status >= 500 ? 'Receiver' : 'Sender';
  }
}

// Messages are the ones seen in public error outputs where known (PreconditionFailed and
// InvalidIfMatchVersion come from Terraform/Crossplane issue logs); the others are plausible wording.
export const errors = {
  noSuchFunction: (name: string) => new CloudFrontError('NoSuchFunctionExists', 404, `The function does not exist: ${name}`),
  preconditionFailed: () =>
    new CloudFrontError(
      'PreconditionFailed',
      412,
      "The request failed because it didn't meet the preconditions in one or more request-header fields.",
    ),
  invalidIfMatch: () => new CloudFrontError('InvalidIfMatchVersion', 400, 'The If-Match version is missing or not valid for the resource.'),
  invalidArgument: (message: string) => new CloudFrontError('InvalidArgument', 400, message),
  invalidTagging: (message: string) => new CloudFrontError('InvalidTagging', 400, message),
  alreadyExists: (name: string) => new CloudFrontError('FunctionAlreadyExists', 409, `A function with the name ${name} already exists.`),
  tooManyFunctions: (quota: number) =>
    new CloudFrontError('TooManyFunctions', 400, `You have reached the maximum number of CloudFront functions for this AWS account (${quota}).`),
  sizeLimit: (limit: number) => new CloudFrontError('FunctionSizeLimitExceeded', 413, `The function is too large. The maximum size is ${limit} bytes.`),
  noSuchResource: () => new CloudFrontError('NoSuchResource', 404, 'The specified CloudFront resource does not exist.'),
  throttling: () => new CloudFrontError('Throttling', 400, 'Rate exceeded'),
  accessDenied: (message: string) => new CloudFrontError('AccessDenied', 403, message),
  unsupported: (message: string) => new CloudFrontError('UnsupportedOperation', 400, message),
};

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
   * (shared doc: Terraform provider issue 49572, one report). Default true.
   */
  noopPublishPreconditionFailed?: boolean;
  /** Stage used when Describe/GetFunction omit `Stage`; the API reference does not say. */
  defaultStage?: Stage;
  now?: () => Date;
}

const NAME = /^[a-zA-Z0-9\-_]{1,64}$/;
const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
const ETAG_SHAPE = /^[A-Za-z0-9]+$/;
const RESOURCE_ARN = /^arn:(aws|aws-cn):cloudfront::([0-9]+):(.*)$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function base32(n: number, width: number): string {
  let out = '';
  for (let v = n; v > 0; v = Math.floor(v / 32)) out = BASE32[v % 32] + out;
  return out.padStart(width, 'A');
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

export class CloudFrontModel {
  readonly accountId: string;
  readonly partition: string;
  functionQuota: number;
  maxCodeBytes: number;
  maxTagsPerResource: number;
  noopPublishPreconditionFailed: boolean;
  defaultStage: Stage;
  private readonly now: () => Date;
  private readonly functions = new Map<string, FunctionRecord>();
  private etagCounter = 0;

  constructor(options: ModelOptions = {}) {
    this.accountId = options.accountId ?? '123456789012';
    this.partition = options.partition ?? 'aws';
    this.functionQuota = options.functionQuota ?? 100;
    this.maxCodeBytes = options.maxCodeBytes ?? 10 * 1024;
    this.maxTagsPerResource = options.maxTagsPerResource ?? 50;
    this.noopPublishPreconditionFailed = options.noopPublishPreconditionFailed ?? true;
    this.defaultStage = options.defaultStage ?? 'DEVELOPMENT';
    this.now = options.now ?? (() => new Date());
  }

  arnFor(name: string): string {
    return `arn:${this.partition}:cloudfront::${this.accountId}:function/${name}`;
  }

  // A counter, not a content hash: real ETags are version tokens (shared doc), and a hash would let
  // tests pass that compare code by ETag.
  private nextEtag(): string {
    this.etagCounter += 1;
    return `E${base32(this.etagCounter, 12)}`;
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

    const now = this.now();
    const record: FunctionRecord = {
      name: input.name,
      createdTime: now,
      development: { etag: this.nextEtag(), code, config: copyConfig(input.config), status: 'UNPUBLISHED', lastModifiedTime: now },
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
    record.development = {
      etag: this.nextEtag(),
      code,
      config: copyConfig(input.config),
      status: 'UNPUBLISHED',
      lastModifiedTime: this.now(),
    };
    return { summary: this.summarize(record, 'DEVELOPMENT'), etag: record.development.etag };
  }

  describeFunction(name: string, stage: string | undefined): { summary: FunctionSummary; etag: string } {
    const { record, state, stage: which } = this.stageOf(name, stage);
    return { summary: this.summarize(record, which), etag: state.etag };
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
    if (this.noopPublishPreconditionFailed && record.live?.etag === dev.etag) throw errors.preconditionFailed();
    dev.status = 'UNASSOCIATED';
    // Publishing copies the version as is: LIVE gets DEVELOPMENT's ETag and DEVELOPMENT keeps it.
    record.live = { etag: dev.etag, code: Buffer.from(dev.code), config: copyConfig(dev.config), status: 'UNASSOCIATED', lastModifiedTime: this.now() };
    return { summary: this.summarize(record, 'LIVE'), etag: dev.etag };
  }

  listFunctions(input: ListInput): ListResult {
    const stage = input.stage === undefined || input.stage === '' ? undefined : this.parseStage(input.stage);
    let maxItems = 100;
    if (input.maxItems !== undefined && input.maxItems !== '') {
      if (!/^[0-9]+$/.test(input.maxItems) || Number(input.maxItems) < 1) {
        throw errors.invalidArgument(`Invalid value for MaxItems: ${input.maxItems}`);
      }
      maxItems = Number(input.maxItems);
    }
    const entries: Array<{ record: FunctionRecord; stage: Stage }> = [];
    for (const name of [...this.functions.keys()].sort()) {
      const record = this.functions.get(name)!;
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
      // Markers name a position, so deleting the marked function between pages still works.
      start = entries.findIndex((e) => compareKey(e.record.name, e.stage, after.name, after.stage) > 0);
      if (start === -1) start = entries.length;
    }
    const page = entries.slice(start, start + maxItems);
    const last = page[page.length - 1];
    const more = start + maxItems < entries.length;
    return {
      items: page.map((e) => this.summarize(e.record, e.stage)),
      maxItems,
      ...(more && last ? { nextMarker: encodeMarker(last.record.name, last.stage) } : {}),
    };
  }

  deleteFunction(name: string, ifMatch: string | undefined): void {
    const match = this.requireIfMatch(ifMatch);
    const record = this.get(name);
    if (match !== record.development.etag) throw errors.preconditionFailed();
    this.functions.delete(name);
  }

  /** Checks a TestFunction call and returns what to run; running the code is not the model's job. */
  prepareTest(name: string, ifMatch: string | undefined, stage: string | undefined): { summary: FunctionSummary; code: Buffer } {
    const match = this.requireIfMatch(ifMatch);
    const { record, state, stage: which } = this.stageOf(name, stage || 'DEVELOPMENT');
    if (match !== state.etag) throw errors.preconditionFailed();
    return { summary: this.summarize(record, which), code: Buffer.from(state.code) };
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
    return { developmentEtag: created.etag, liveEtag: published.etag };
  }

  snapshot(): FunctionSnapshot[] {
    return [...this.functions.values()]
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((r) => ({
        name: r.name,
        arn: this.arnFor(r.name),
        createdTime: r.createdTime.toISOString(),
        development: stageSnapshot(r.development),
        ...(r.live ? { live: stageSnapshot(r.live) } : {}),
        tags: Object.fromEntries(r.tags),
      }));
  }

  functionCount(): number {
    return this.functions.size;
  }

  reset(): void {
    this.functions.clear();
  }

  // ---- helpers -----------------------------------------------------------------------------

  private get(name: string): FunctionRecord {
    const record = this.functions.get(name);
    if (!record) throw errors.noSuchFunction(name);
    return record;
  }

  private stageOf(name: string, stage: string | undefined): { record: FunctionRecord; state: StageState; stage: Stage } {
    const which = stage === undefined || stage === '' ? this.defaultStage : this.parseStage(stage);
    const record = this.get(name);
    const state = which === 'LIVE' ? record.live : record.development;
    if (!state) throw errors.noSuchFunction(name);
    return { record, state, stage: which };
  }

  private parseStage(stage: string): Stage {
    if (stage === 'DEVELOPMENT' || stage === 'LIVE') return stage;
    throw errors.invalidArgument(`Invalid value for Stage: ${stage}. Valid values are DEVELOPMENT and LIVE.`);
  }

  private requireIfMatch(ifMatch: string | undefined): string {
    if (ifMatch === undefined || !ETAG_SHAPE.test(ifMatch)) throw errors.invalidIfMatch();
    return ifMatch;
  }

  private validateName(name: string): void {
    if (!NAME.test(name)) throw errors.invalidArgument(`Invalid function name: ${name}. It must match [a-zA-Z0-9-_]{1,64}.`);
  }

  private validateConfig(config: FunctionConfig): void {
    if (!(RUNTIMES as readonly string[]).includes(config.runtime)) {
      throw errors.invalidArgument(`Invalid runtime: ${config.runtime}. Valid values are ${RUNTIMES.join(', ')}.`);
    }
    if (config.keyValueStoreArns.length > 1) throw errors.invalidArgument('A function can be associated with at most one KeyValueStore.');
    if (config.keyValueStoreArns.length && config.runtime === 'cloudfront-js-1.0') {
      throw errors.invalidArgument('KeyValueStore associations need the cloudfront-js-2.0 runtime.');
    }
  }

  private validateCode(code: Buffer | undefined): Buffer {
    if (!code || code.length === 0) throw errors.invalidArgument('FunctionCode is required and must not be empty.');
    if (code.length > this.maxCodeBytes) throw errors.sizeLimit(this.maxCodeBytes);
    return Buffer.from(code);
  }

  private tagProblem(tags: Tag[], resultingCount: number): string | undefined {
    for (const { key, value } of tags) {
      if (key.length < 1 || key.length > 128 || !TAG_CHARS.test(key)) return `Invalid tag key: ${JSON.stringify(key)}`;
      if (value.length > 256 || !TAG_CHARS.test(value)) return `Invalid tag value for key ${JSON.stringify(key)}`;
    }
    if (resultingCount > this.maxTagsPerResource) return `A resource can have at most ${this.maxTagsPerResource} tags.`;
    return undefined;
  }

  private resource(arn: string | undefined): FunctionRecord {
    const match = arn === undefined ? null : RESOURCE_ARN.exec(arn);
    if (!match) throw errors.invalidArgument(`Invalid resource ARN: ${arn ?? '(missing)'}`);
    const [, partition, account, rest] = match;
    const name = rest!.startsWith('function/') ? rest!.slice('function/'.length) : undefined;
    const record = name === undefined ? undefined : this.functions.get(name);
    // Other resource types (distributions, KeyValueStores...) are not modelled: they never exist here.
    if (partition !== this.partition || account !== this.accountId || !record) throw errors.noSuchResource();
    return record;
  }

  private summarize(record: FunctionRecord, stage: Stage): FunctionSummary {
    const state = stage === 'LIVE' ? record.live! : record.development;
    return {
      name: record.name,
      status: state.status,
      config: copyConfig(state.config),
      arn: this.arnFor(record.name),
      stage,
      createdTime: record.createdTime,
      lastModifiedTime: state.lastModifiedTime,
    };
  }
}

function stageSnapshot(s: StageState): StageSnapshot {
  return {
    etag: s.etag,
    status: s.status,
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
