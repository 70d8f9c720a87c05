/**
 * The one module that talks to S3: reading a function's own test cases, and the history bucket (the
 * reconciler writes to it; only the CLI, with the operator's credentials, lists and reads it). An
 * object that is missing or refused on a read is a value (the gate blocks on it, naming which); a
 * refused write throws, like throttling and 5xx once the SDK's retries are spent.
 */
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { isError } from './cloudfront-gateway';

export interface S3Gateway {
  /** The object's text, or why it could not be read. */
  readText(bucket: string, key: string, signal?: AbortSignal): Promise<string | { readonly unreadable: string }>;
  /** PutObject of a JSON document; throws on any failure. */
  putJson(bucket: string, key: string, body: string, signal?: AbortSignal): Promise<void>;
  /** Every key under `prefix` (ListObjectsV2, following continuation tokens). */
  listKeys(bucket: string, prefix: string, signal?: AbortSignal): Promise<string[]>;
}

/** A listing past this many pages of 1,000 keys is refused rather than followed on. */
const MAX_LIST_PAGES = 100;

/** Test-case files are small; a bigger object is refused rather than read into memory. */
export const MAX_TEST_CASES_BYTES = 256 * 1024;

export function createS3Client(options: AwsClientOptions = {}): S3Client {
  // Path-style, so an emulator or another endpoint needs no per-bucket DNS names.
  return new S3Client({ ...awsClientConfig({ ...options, region: options.region ?? 'us-east-1' }, 5), forcePathStyle: Boolean(options.endpoint) });
}

export function s3Gateway(client: S3Client): S3Gateway {
  return {
    async readText(bucket, key, signal) {
      try {
        const out = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), signal ? { abortSignal: signal } : {});
        if (out.ContentLength !== undefined && out.ContentLength > MAX_TEST_CASES_BYTES) {
          return { unreadable: `s3://${bucket}/${key} is ${out.ContentLength} bytes, over ${MAX_TEST_CASES_BYTES}` };
        }
        return (await out.Body?.transformToString('utf8')) ?? '';
      } catch (error) {
        if (isError(error, 'NoSuchKey', 'NoSuchBucket', 'AccessDenied', 'NotFound', 'Forbidden')) {
          return { unreadable: `s3://${bucket}/${key} cannot be read (${(error as Error).name})` };
        }
        throw error;
      }
    },

    async putJson(bucket, key, body, signal) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: 'application/json' }), signal ? { abortSignal: signal } : {});
    },

    async listKeys(bucket, prefix, signal) {
      const keys: string[] = [];
      let token: string | undefined;
      for (let page = 1; ; page++) {
        const out = await client.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ...(token ? { ContinuationToken: token } : {}) }),
          signal ? { abortSignal: signal } : {},
        );
        for (const object of out.Contents ?? []) if (object.Key) keys.push(object.Key);
        if (!out.IsTruncated || !out.NextContinuationToken) return keys;
        if (out.NextContinuationToken === token || page >= MAX_LIST_PAGES) {
          throw new Error(`ListObjectsV2 s3://${bucket}/${prefix}: the listing does not end (page ${page})`);
        }
        token = out.NextContinuationToken;
      }
    },
  };
}
