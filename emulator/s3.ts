/**
 * A minimal S3 for what the reconciler and its CLI use: GetObject (and HeadObject), PutObject and
 * ListObjectsV2, path-style, served by the same HTTP server as CloudFront under every path outside
 * `/2020-05-31/` and `/_emulator/` (but for a `POST /` that STS or Organizations claims,
 * emulator/ORGANIZATIONS.md):
 *
 *   GET  /{bucket}/{key}   → 200 the object's bytes (Content-Type, Content-Length, ETag, Last-Modified)
 *   HEAD /{bucket}/{key}   → the same headers, no body
 *   PUT  /{bucket}/{key}   → 200 with the ETag header (into an existing bucket: NoSuchBucket otherwise;
 *                            an `aws-chunked` body, as newer SDKs and CLIs send, is decoded)
 *   GET  /{bucket}?list-type=2[&prefix=&max-keys=&continuation-token=&start-after=&encoding-type=url]
 *                          → 200 ListBucketResult, keys in UTF-8 binary order, at most 1,000 a page
 *
 * `refuseWrites` (the emulator's `controls.refuseS3Writes`) makes every PutObject fail with the
 * given error, as a bucket policy, an SCP or an outage would, while reads go on working.
 *
 * Errors use S3's own XML (`<Error><Code/><Message/>…<RequestId/><HostId/></Error>`, not CloudFront's
 * ErrorResponse): NoSuchBucket 404, NoSuchKey 404, AccessDenied 403 (from the authorizer, or for a
 * missing key in a bucket created with `missingKey: 'AccessDenied'`, which is what S3 answers a
 * caller without s3:ListBucket), NotImplemented 501 for anything else. Objects are put through the
 * control API only (`state.putObject`, `PUT /_emulator/s3/{bucket}/{key}`), never over the S3 wire.
 */
import { createHash } from 'node:crypto';
import { el, escapeXml, type XmlNode } from './xml';

export interface S3ObjectView {
  bucket: string;
  key: string;
  body: Buffer;
  contentType: string;
  /** Quoted MD5 of the body, as S3 sends it for a single-part upload. */
  etag: string;
  lastModified: Date;
}

export interface BucketOptions {
  /**
   * The answer to a GetObject of a key that is not there: `NoSuchKey` (404, the caller may
   * s3:ListBucket) or `AccessDenied` (403, what S3 answers a caller without s3:ListBucket). Default NoSuchKey.
   */
  missingKey?: 'NoSuchKey' | 'AccessDenied';
}

export interface PutObjectOptions {
  /** Default `binary/octet-stream`, S3's own default when an upload names none. */
  contentType?: string;
}

export class S3Error extends Error {
  override name = 'S3Error';
  constructor(
    readonly code: string,
    readonly status: number,
    message: string,
    /** Extra members S3 adds to the error document (`Key`, `BucketName`). */
    readonly details: Record<string, string> = {},
  ) {
    super(message);
  }
}

export const s3Errors = {
  noSuchBucket: (bucket: string) => new S3Error('NoSuchBucket', 404, 'The specified bucket does not exist', { BucketName: bucket }),
  noSuchKey: (key: string) => new S3Error('NoSuchKey', 404, 'The specified key does not exist.', { Key: key }),
  accessDenied: () => new S3Error('AccessDenied', 403, 'Access Denied'),
  /** S3's own wording and status (400, not the 403 other services answer). */
  expiredToken: () => new S3Error('ExpiredToken', 400, 'The provided token has expired.'),
  notImplemented: () => new S3Error('NotImplemented', 501, 'A header you provided implies functionality that is not implemented'),
  serviceUnavailable: () => new S3Error('ServiceUnavailable', 503, 'Please reduce your request rate.'),
  invalidArgument: (message: string) => new S3Error('InvalidArgument', 400, message),
};

/** What a refused write answers. */
export type RefusedWrite = 'AccessDenied' | 'ServiceUnavailable';

export interface ListObjectsInput {
  prefix?: string;
  maxKeys?: number;
  continuationToken?: string;
  startAfter?: string;
}

export interface ListObjectsPage {
  objects: Array<Omit<S3ObjectView, 'body' | 'bucket'> & { size: number }>;
  /** Set when more keys follow: the last key of this page, opaque to the caller. */
  nextContinuationToken?: string;
}

/** S3's general-purpose bucket naming rules (3–63 characters, lower case, digits, dots, hyphens). */
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** The one valid bucket name the emulator cannot serve: its path is CloudFront's. */
const SHADOWED = new Set(['2020-05-31']);

interface Bucket {
  options: Required<BucketOptions>;
  objects: Map<string, S3ObjectView>;
}

export class S3Store {
  private readonly buckets = new Map<string, Bucket>();
  /** Every PutObject over the wire fails with this, until cleared. */
  refuseWrites: RefusedWrite | undefined;

  constructor(private readonly now: () => Date = () => new Date()) {}

  /** Creates the bucket, or changes its options when it exists. Throws RangeError on an invalid name. */
  createBucket(bucket: string, options: BucketOptions = {}): void {
    checkBucketName(bucket);
    const existing = this.buckets.get(bucket);
    const resolved = { missingKey: options.missingKey ?? existing?.options.missingKey ?? 'NoSuchKey' };
    if (existing) existing.options = resolved;
    else this.buckets.set(bucket, { options: resolved, objects: new Map() });
  }

  /** Stores (or replaces) an object, creating the bucket if needed. Returns its quoted ETag. */
  putObject(bucket: string, key: string, body: string | Uint8Array, options: PutObjectOptions = {}): { etag: string } {
    if (key.length === 0 || Buffer.byteLength(key, 'utf8') > 1024) throw new RangeError(`invalid S3 key ${JSON.stringify(key)}: 1–1024 bytes`);
    if (!this.buckets.has(bucket)) this.createBucket(bucket);
    const bytes = typeof body === 'string' ? Buffer.from(body, 'utf8') : Buffer.from(body);
    const etag = `"${createHash('md5').update(bytes).digest('hex')}"`;
    this.buckets.get(bucket)!.objects.set(key, {
      bucket,
      key,
      body: bytes,
      contentType: options.contentType ?? 'binary/octet-stream',
      etag,
      lastModified: this.now(),
    });
    return { etag };
  }

  /** Removes an object; no error when it is not there (like S3). */
  deleteObject(bucket: string, key: string): void {
    this.buckets.get(bucket)?.objects.delete(key);
  }

  /** Removes a bucket and everything in it. */
  deleteBucket(bucket: string): void {
    this.buckets.delete(bucket);
  }

  /** Throws S3Error NoSuchBucket / NoSuchKey (or AccessDenied, per the bucket's `missingKey`). */
  getObject(bucket: string, key: string): S3ObjectView {
    const b = this.buckets.get(bucket);
    if (!b) throw s3Errors.noSuchBucket(bucket);
    const object = b.objects.get(key);
    if (!object) throw b.options.missingKey === 'AccessDenied' ? s3Errors.accessDenied() : s3Errors.noSuchKey(key);
    return { ...object, body: Buffer.from(object.body) };
  }

  /** PutObject over the wire: only into a bucket that exists, and not while writes are refused. */
  putFromWire(bucket: string, key: string, body: Buffer, contentType: string | undefined): { etag: string } {
    if (this.refuseWrites === 'AccessDenied') throw s3Errors.accessDenied();
    if (this.refuseWrites === 'ServiceUnavailable') throw s3Errors.serviceUnavailable();
    if (!this.buckets.has(bucket)) throw s3Errors.noSuchBucket(bucket);
    if (Buffer.byteLength(key, 'utf8') > 1024) throw s3Errors.invalidArgument('Your key is too long.');
    return this.putObject(bucket, key, body, contentType ? { contentType } : {});
  }

  /** ListObjectsV2: keys in UTF-8 binary order (S3's), after the token or `startAfter`. */
  listObjects(bucket: string, input: ListObjectsInput = {}): ListObjectsPage {
    const b = this.buckets.get(bucket);
    if (!b) throw s3Errors.noSuchBucket(bucket);
    const prefix = input.prefix ?? '';
    const after = input.continuationToken ?? input.startAfter;
    const max = Math.min(Math.max(input.maxKeys ?? 1000, 0), 1000);
    const keys = [...b.objects.keys()]
      .filter((k) => k.startsWith(prefix) && (after === undefined || Buffer.compare(Buffer.from(k), Buffer.from(after)) > 0))
      .sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const page = keys.slice(0, max);
    const objects = page.map((key) => {
      const { body, bucket: _bucket, ...rest } = b.objects.get(key)!;
      return { ...rest, size: body.length };
    });
    const last = page[page.length - 1];
    return keys.length > page.length && last !== undefined ? { objects, nextContinuationToken: last } : { objects };
  }

  /** Every object (body excluded), sorted by bucket then key. */
  list(): Array<Omit<S3ObjectView, 'body'> & { size: number }> {
    const out: Array<Omit<S3ObjectView, 'body'> & { size: number }> = [];
    for (const name of [...this.buckets.keys()].sort()) {
      const objects = this.buckets.get(name)!.objects;
      for (const key of [...objects.keys()].sort()) {
        const { body, ...rest } = objects.get(key)!;
        out.push({ ...rest, size: body.length });
      }
    }
    return out;
  }

  bucketNames(): string[] {
    return [...this.buckets.keys()].sort();
  }

  reset(): void {
    this.buckets.clear();
  }
}

function checkBucketName(bucket: string): void {
  if (!BUCKET.test(bucket) || bucket.includes('..') || /^\d+\.\d+\.\d+\.\d+$/.test(bucket)) {
    throw new RangeError(`invalid S3 bucket name ${JSON.stringify(bucket)}`);
  }
  if (SHADOWED.has(bucket)) throw new RangeError(`bucket name ${bucket} is CloudFront's API path on the emulator and cannot be served`);
}

/** `/{bucket}/{key}` → its parts (key percent-decoded, may contain `/`); undefined key for `/{bucket}`. */
export function parseS3Path(pathname: string): { bucket: string; key?: string } | undefined {
  const match = /^\/([^/]+)(?:\/(.*))?$/.exec(pathname);
  if (!match) return undefined;
  try {
    const bucket = decodeURIComponent(match[1]!);
    const key = match[2] === undefined || match[2] === '' ? undefined : decodeURIComponent(match[2]);
    return key === undefined ? { bucket } : { bucket, key };
  } catch {
    return undefined;
  }
}

/** ListObjectsV2's answer (`encodingType` url: keys and prefixes percent-encoded, as S3 does). */
export function listObjectsDocument(bucket: string, input: ListObjectsInput & { encodingType?: string }, page: ListObjectsPage): string {
  const encode = input.encodingType === 'url' ? (v: string) => encodeURIComponent(v).replace(/%2F/g, '/') : (v: string) => v;
  const text = (name: string, value: string) => `<${name}>${escapeXml(value)}</${name}>`;
  const parts = [
    text('Name', bucket),
    text('Prefix', encode(input.prefix ?? '')),
    text('KeyCount', String(page.objects.length)),
    text('MaxKeys', String(input.maxKeys ?? 1000)),
    ...(input.encodingType === 'url' ? [text('EncodingType', 'url')] : []),
    text('IsTruncated', String(page.nextContinuationToken !== undefined)),
    ...(input.continuationToken !== undefined ? [text('ContinuationToken', input.continuationToken)] : []),
    ...(page.nextContinuationToken !== undefined ? [text('NextContinuationToken', page.nextContinuationToken)] : []),
    ...(input.startAfter !== undefined ? [text('StartAfter', encode(input.startAfter))] : []),
    ...page.objects.map(
      (o) =>
        `<Contents>${text('Key', encode(o.key))}${text('LastModified', o.lastModified.toISOString())}${text('ETag', o.etag)}${text('Size', String(o.size))}${text('StorageClass', 'STANDARD')}</Contents>`,
    ),
  ];
  return `<?xml version="1.0" encoding="UTF-8"?>\n<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">${parts.join('')}</ListBucketResult>`;
}

/**
 * An `aws-chunked` body (`<hex size>[;chunk-signature=…]\r\n<bytes>\r\n` … `0\r\n<trailers>\r\n`)
 * back to its bytes; undefined when it is malformed.
 */
export function decodeAwsChunked(body: Buffer): Buffer | undefined {
  const out: Buffer[] = [];
  let pos = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', pos);
    if (eol === -1) return undefined;
    const size = Number.parseInt(body.subarray(pos, eol).toString('latin1').split(';')[0] ?? '', 16);
    if (!Number.isInteger(size) || size < 0) return undefined;
    if (size === 0) return Buffer.concat(out);
    const start = eol + 2;
    if (start + size > body.length) return undefined;
    out.push(body.subarray(start, start + size));
    pos = start + size + 2;
  }
}

/** S3's error document: root `Error`, no namespace. */
export function s3ErrorDocument(error: S3Error, requestId: string, hostId: string): string {
  const members: XmlNode[] = [el('Code', error.code), el('Message', error.message)];
  for (const [name, value] of Object.entries(error.details)) members.push(el(name, value));
  members.push(el('RequestId', requestId), el('HostId', hostId));
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${members.map((m) => (typeof m === 'string' ? escapeXml(m) : m === undefined ? '' : m.xml)).join('')}</Error>`;
}
