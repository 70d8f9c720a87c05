/**
 * Distributions, minimal: just enough to say where a function runs. A distribution has one origin,
 * a default cache behaviour and optional path-pattern cache behaviours; each behaviour holds at most
 * one function per event type (`viewer-request`, `viewer-response`), by function ARN, as
 * `DistributionSummary.DefaultCacheBehavior/CacheBehaviors.FunctionAssociations` show it
 * (docs/cloudfront-api.md, "where it runs").
 *
 * They are created and edited through the emulator's control API, not CreateDistribution /
 * UpdateDistribution XML; only ListDistributions is served on the wire. The store knows functions
 * only by ARN: checking that a function exists and is published is the model's job.
 */
import { createHash } from 'node:crypto';
import { errors } from './errors';

export type FunctionEventType = 'viewer-request' | 'viewer-response';
export const FUNCTION_EVENT_TYPES: readonly FunctionEventType[] = ['viewer-request', 'viewer-response'];

export interface FunctionAssociation {
  functionArn: string;
  eventType: FunctionEventType;
}

export interface CacheBehaviorView {
  /** Undefined for the default cache behaviour. */
  pathPattern?: string;
  targetOriginId: string;
  functionAssociations: FunctionAssociation[];
}

export interface DistributionView {
  id: string;
  arn: string;
  domainName: string;
  /** Always `Deployed`: deployment time is not modelled. */
  status: string;
  lastModifiedTime: Date;
  comment: string;
  enabled: boolean;
  originId: string;
  originDomainName: string;
  defaultCacheBehavior: CacheBehaviorView;
  cacheBehaviors: CacheBehaviorView[];
  /** Viewer mutual TLS, which a connection function needs; absent = off. */
  viewerMtls?: ViewerMtls;
  /** The Id of the connection function the distribution runs (one at most, distribution-wide). */
  connectionFunctionId?: string;
}

/** `ViewerMtlsConfig` as DistributionSummary carries it. */
export interface ViewerMtls {
  mode: 'required' | 'optional';
  trustStoreId: string;
}

export interface CreateDistributionInput {
  /** Default: generated, `E` + 13 characters like real ids. */
  id?: string;
  comment?: string;
  enabled?: boolean;
  /** Path patterns of the non-default cache behaviours, in order (e.g. `/api/*`). */
  pathPatterns?: string[];
  /** Default `example-bucket.s3.us-east-1.amazonaws.com`. */
  originDomainName?: string;
  /** Turns viewer mTLS on (mode default `required`, trust store id default generated): needed for a connection function. */
  viewerMtls?: Partial<ViewerMtls>;
}

export interface AssociateInput {
  distributionId: string;
  /** `arn:aws:cloudfront::ACCOUNT:function/NAME`, as the real association takes it. */
  functionArn: string;
  eventType: FunctionEventType;
  /** The cache behaviour's path pattern; undefined = the default cache behaviour. */
  pathPattern?: string;
}

export interface DisassociateInput {
  distributionId: string;
  eventType: FunctionEventType;
  pathPattern?: string;
}

export interface DistributionListInput {
  marker?: string;
  maxItems?: string;
}

export interface DistributionListResult {
  /** The request's Marker, echoed ('' when none). */
  marker: string;
  maxItems: number;
  isTruncated: boolean;
  nextMarker?: string;
  items: DistributionView[];
}

interface Behavior {
  pathPattern?: string;
  /** Event type → function ARN. */
  associations: Map<FunctionEventType, string>;
}

interface DistributionRecord {
  id: string;
  domainName: string;
  lastModifiedTime: Date;
  comment: string;
  enabled: boolean;
  originDomainName: string;
  defaultBehavior: Behavior;
  behaviors: Behavior[];
  viewerMtls?: ViewerMtls;
  connectionFunctionId?: string;
}

const ORIGIN_ID = 'origin-1';
const ID_SHAPE = /^[A-Za-z0-9]{1,32}$/;

export class DistributionStore {
  private readonly records = new Map<string, DistributionRecord>();
  private counter = 0;

  constructor(
    private readonly accountId: string,
    private readonly partition: string,
    private readonly now: () => Date,
  ) {}

  arnFor(id: string): string {
    return `arn:${this.partition}:cloudfront::${this.accountId}:distribution/${id}`;
  }

  create(input: CreateDistributionInput = {}): DistributionView {
    const id = input.id ?? this.nextId();
    if (!ID_SHAPE.test(id)) throw errors.invalidArgument(`Invalid distribution id: ${id}`);
    if (this.records.has(id)) throw errors.invalidArgument(`A distribution with the id ${id} already exists.`);
    const patterns = input.pathPatterns ?? [];
    if (new Set(patterns).size !== patterns.length || patterns.some((p) => p === '')) {
      throw errors.invalidArgument('Cache behaviour path patterns must be non-empty and distinct.');
    }
    const record: DistributionRecord = {
      id,
      domainName: `d${token(`domain/${id}`, 13).toLowerCase()}.cloudfront.net`,
      lastModifiedTime: this.now(),
      comment: input.comment ?? '',
      enabled: input.enabled ?? true,
      originDomainName: input.originDomainName ?? 'example-bucket.s3.us-east-1.amazonaws.com',
      defaultBehavior: { associations: new Map() },
      behaviors: patterns.map((pathPattern) => ({ pathPattern, associations: new Map() })),
      ...(input.viewerMtls
        ? {
            viewerMtls: {
              mode: input.viewerMtls.mode ?? 'required',
              trustStoreId: input.viewerMtls.trustStoreId ?? `ts-${token(`trust-store/${id}`, 17).toLowerCase()}`,
            },
          }
        : {}),
    };
    if (record.viewerMtls && !['required', 'optional'].includes(record.viewerMtls.mode)) {
      throw errors.invalidArgument(`Invalid viewer mTLS mode: ${String(record.viewerMtls.mode)}. Valid values are required and optional.`);
    }
    this.records.set(id, record);
    return this.view(record);
  }

  get(id: string): DistributionView {
    return this.view(this.record(id));
  }

  delete(id: string): void {
    this.record(id);
    this.records.delete(id);
  }

  /** Sets (replacing any) or, with `functionArn` undefined, removes one association. */
  setAssociation(id: string, pathPattern: string | undefined, eventType: FunctionEventType, functionArn: string | undefined): DistributionView {
    if (!FUNCTION_EVENT_TYPES.includes(eventType)) {
      throw errors.invalidFunctionAssociation(`Invalid event type ${String(eventType)} for a CloudFront function: use viewer-request or viewer-response.`);
    }
    const record = this.record(id);
    const behavior = pathPattern === undefined ? record.defaultBehavior : record.behaviors.find((b) => b.pathPattern === pathPattern);
    if (!behavior) throw errors.invalidArgument(`Distribution ${id} has no cache behaviour with the path pattern ${pathPattern}.`);
    if (functionArn === undefined) behavior.associations.delete(eventType);
    else behavior.associations.set(eventType, functionArn);
    record.lastModifiedTime = this.now();
    return this.view(record);
  }

  /**
   * Sets (replacing any) or, with `connectionFunctionId` undefined, removes the distribution's
   * connection function. Whether the function exists and is published is the model's check.
   */
  setConnectionFunction(id: string, connectionFunctionId: string | undefined): DistributionView {
    const record = this.record(id);
    if (connectionFunctionId !== undefined && !record.viewerMtls) {
      throw errors.invalidArgument(`Distribution ${id} does not have viewer mTLS enabled: a connection function needs it.`);
    }
    if (connectionFunctionId === undefined) delete record.connectionFunctionId;
    else record.connectionFunctionId = connectionFunctionId;
    record.lastModifiedTime = this.now();
    return this.view(record);
  }

  /** Ids of the distributions running the connection function `connectionFunctionId`, sorted. */
  usersOfConnectionFunction(connectionFunctionId: string): string[] {
    return [...this.records.values()]
      .filter((r) => r.connectionFunctionId === connectionFunctionId)
      .map((r) => r.id)
      .sort();
  }

  /** Ids of the distributions with at least one association of `functionArn`, sorted. */
  usersOf(functionArn: string): string[] {
    const ids: string[] = [];
    for (const record of this.records.values()) {
      const all = [record.defaultBehavior, ...record.behaviors];
      if (all.some((b) => [...b.associations.values()].includes(functionArn))) ids.push(record.id);
    }
    return ids.sort();
  }

  /**
   * Ordered by id; Marker/NextMarker is the last id of the previous page (a position, so deletes between
   * pages are fine). `only` keeps the distributions it accepts (ListDistributionsByConnectionFunction).
   */
  list(input: DistributionListInput = {}, only: (id: string) => boolean = () => true): DistributionListResult {
    let maxItems = 100;
    if (input.maxItems !== undefined && input.maxItems !== '') {
      if (!/^[0-9]+$/.test(input.maxItems) || Number(input.maxItems) < 1) throw errors.invalidArgument(`Invalid value for MaxItems: ${input.maxItems}`);
      maxItems = Number(input.maxItems);
    }
    const marker = input.marker ?? '';
    const ids = [...this.records.keys()].filter(only).sort();
    const start = marker === '' ? 0 : ids.findIndex((id) => id > marker);
    const from = start === -1 ? ids.length : start;
    const page = ids.slice(from, from + maxItems);
    const isTruncated = from + page.length < ids.length;
    const last = page[page.length - 1];
    return {
      marker,
      maxItems,
      isTruncated,
      ...(isTruncated && last !== undefined ? { nextMarker: last } : {}),
      items: page.map((id) => this.view(this.records.get(id)!)),
    };
  }

  all(): DistributionView[] {
    return [...this.records.keys()].sort().map((id) => this.view(this.records.get(id)!));
  }

  count(): number {
    return this.records.size;
  }

  reset(): void {
    this.records.clear();
    this.counter = 0;
  }

  private record(id: string): DistributionRecord {
    const record = this.records.get(id);
    if (!record) throw errors.noSuchDistribution(id);
    return record;
  }

  private nextId(): string {
    for (;;) {
      this.counter += 1;
      const id = `E${token(`distribution/${this.accountId}/${this.counter}`, 13)}`;
      if (!this.records.has(id)) return id;
    }
  }

  private view(record: DistributionRecord): DistributionView {
    const behavior = (b: Behavior): CacheBehaviorView => ({
      ...(b.pathPattern === undefined ? {} : { pathPattern: b.pathPattern }),
      targetOriginId: ORIGIN_ID,
      // viewer-request before viewer-response, as consoles and the docs list them.
      functionAssociations: FUNCTION_EVENT_TYPES.filter((t) => b.associations.has(t)).map((eventType) => ({
        functionArn: b.associations.get(eventType)!,
        eventType,
      })),
    });
    return {
      id: record.id,
      arn: this.arnFor(record.id),
      domainName: record.domainName,
      status: 'Deployed',
      lastModifiedTime: record.lastModifiedTime,
      comment: record.comment,
      enabled: record.enabled,
      originId: ORIGIN_ID,
      originDomainName: record.originDomainName,
      defaultCacheBehavior: behavior(record.defaultBehavior),
      cacheBehaviors: record.behaviors.map(behavior),
      ...(record.viewerMtls ? { viewerMtls: { ...record.viewerMtls } } : {}),
      ...(record.connectionFunctionId === undefined ? {} : { connectionFunctionId: record.connectionFunctionId }),
    };
  }
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** `length` characters of [A-Z0-9] drawn deterministically from `seed`. */
export function token(seed: string, length: number): string {
  const bytes = createHash('sha256').update(seed).digest();
  let out = '';
  for (let i = 0; i < length; i++) out += ALPHABET[bytes[i % bytes.length]! % ALPHABET.length];
  return out;
}
