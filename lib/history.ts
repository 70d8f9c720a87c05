/**
 * The history bucket: every LIVE version a publish of ours replaces, saved first, so that any
 * publish can be undone (CloudFront keeps no versions: a publish overwrites LIVE for good). One JSON
 * object per replaced version, under the account the function lives in (organisation mode: one
 * central bucket, each member's functions under its own account, never another's).
 */
import type { Audit } from './cloudtrail';
import type { FunctionSettings, StageCode } from './cloudfront-gateway';
import { AutoPublishError, describeError } from './errors';
import { ARN_RESOURCE_TYPE, type FunctionRef, identifierOf, kindOf, parseCloudFrontArn } from './function-ref';
import type { S3Gateway } from './s3-gateway';

export type { Audit };

export interface HistoryRecord {
  readonly functionName: string;
  /** Connection functions only: the kind, and the Id the function is addressed by. Absent: the ordinary kind. */
  readonly functionKind?: 'connection';
  readonly functionId?: string;
  /** The LIVE ETag replaced. */
  readonly etag: string;
  /** The LIVE code, base64, exactly as GetFunction returned it. */
  readonly code: string;
  readonly config: FunctionSettings;
  readonly replacedBy: {
    /** The DEVELOPMENT ETag published over it. */
    readonly etag: string;
    /** The normalised eventName, `sweep`, `cli` or `rollback`. */
    readonly trigger: string;
    readonly actor?: string;
    readonly eventId?: string;
  };
  /** ISO time of the save. */
  readonly savedAt: string;
}

export interface History {
  /** Writes one record; resolves with its key. Throws HistoryWriteError when it could not. */
  save(fn: FunctionRef, live: StageCode, config: FunctionSettings, replacedBy: HistoryRecord['replacedBy']): Promise<string>;
}

/** A write that failed: nothing is published, and a later try (Lambda's retry, the next sweep) may pass. */
export class HistoryWriteError extends AutoPublishError {
  override name = 'HistoryWriteError';
  readonly retryable = true;
}

/** The history of a function that is not a well-formed CloudFront function ARN cannot be filed. */
export class HistoryKeyError extends AutoPublishError {
  override name = 'HistoryKeyError';
  readonly retryable = false;
}

/**
 * Where one function's saved versions live: `<account>/<functionName>/` for the ordinary kind (as
 * always), `<account>/connection-function:<Id>/` for a connection function. A name may be taken once
 * per kind, and `:` is no name's character, so neither kind's prefix is ever a prefix of the other's.
 */
export function historyPrefix(fn: FunctionRef): string {
  const kind = kindOf(fn);
  const parsed = parseCloudFrontArn(fn.arn);
  // A connection function's ARN may end in its Id or its name (unconfirmed, docs/cloudfront-api.md#connection-functions): either is its own; the key takes the Id.
  const own = parsed?.resourceId === identifierOf(fn) || (kind === 'connection' && parsed?.resourceId === fn.name);
  if (parsed?.resourceType !== ARN_RESOURCE_TYPE[kind] || !own) {
    throw new HistoryKeyError(
      `${fn.name}: cannot file its history under an account: "${fn.arn.slice(0, 200)}" is not its ${kind === 'connection' ? 'connection ' : ''}function ARN`,
    );
  }
  return kind === 'connection' ? `${parsed.account}/${ARN_RESOURCE_TYPE.connection}:${identifierOf(fn)}/` : `${parsed.account}/${fn.name}/`;
}

/** `<account>/<functionName>/<ISO time>-<LIVE ETag>.json`: ISO times sort as they happened. */
export function historyKey(fn: FunctionRef, savedAt: string, liveEtag: string): string {
  return `${historyPrefix(fn)}${savedAt}-${liveEtag}.json`;
}

export function historyStore(s3: S3Gateway, bucket: string, now: () => Date = () => new Date()): History {
  return {
    async save(fn, live, config, replacedBy) {
      const savedAt = now().toISOString();
      const key = historyKey(fn, savedAt, live.etag);
      const kind = fn.kind === 'connection' ? { functionKind: fn.kind, functionId: fn.id } : {};
      const record: HistoryRecord = { functionName: fn.name, ...kind, etag: live.etag, code: live.code, config, replacedBy, savedAt };
      try {
        await s3.putJson(bucket, key, JSON.stringify(record));
      } catch (error) {
        throw new HistoryWriteError(`${fn.name}: could not save LIVE ${live.etag} to s3://${bucket}/${key}, so it was not replaced: ${describeError(error)}`, {
          cause: error,
        });
      }
      return key;
    },
  };
}

/** A saved object that is not a history record (hand-edited, another tool's): named, never guessed at. */
export class HistoryRecordError extends AutoPublishError {
  override name = 'HistoryRecordError';
  readonly retryable = false;
}

/** Reads a saved record back, checking every field rollback relies on. */
export function parseHistoryRecord(text: string, key: string): HistoryRecord {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new HistoryRecordError(`${key} is not JSON`);
  }
  const bad = (what: string) => new HistoryRecordError(`${key} is not a history record: ${what}`);
  const o = value as Record<string, unknown>;
  if (typeof o !== 'object' || o === null || Array.isArray(o)) throw bad('not a JSON object');
  for (const field of ['functionName', 'etag', 'code', 'savedAt'] as const) {
    if (typeof o[field] !== 'string' || o[field] === '') throw bad(`"${field}" is not a non-empty string`);
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(o.code as string)) throw bad('"code" is not base64');
  const config = o.config as Record<string, unknown> | undefined;
  if (typeof config !== 'object' || config === null) throw bad('"config" is missing');
  if (typeof config.comment !== 'string' || typeof config.runtime !== 'string' || config.runtime === '') throw bad('"config" needs a comment and a runtime');
  const stores = config.keyValueStoreAssociations;
  if (!Array.isArray(stores) || !stores.every((s) => typeof s === 'string')) throw bad('"config.keyValueStoreAssociations" is not a list of ARNs');
  const replacedBy = o.replacedBy as Record<string, unknown> | undefined;
  if (typeof replacedBy !== 'object' || replacedBy === null || typeof replacedBy.etag !== 'string' || typeof replacedBy.trigger !== 'string') {
    throw bad('"replacedBy" needs an etag and a trigger');
  }
  return value as HistoryRecord;
}
