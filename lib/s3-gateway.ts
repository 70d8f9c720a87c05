/**
 * The one module that talks to S3: reading a function's own test cases. An object that is missing or
 * refused is a value (the gate blocks on it, naming which); throttling and 5xx are the SDK's to retry,
 * and throw when they persist.
 */
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { isError } from './cloudfront-gateway';

export interface S3Gateway {
  /** The object's text, or why it could not be read. */
  readText(bucket: string, key: string, signal?: AbortSignal): Promise<string | { readonly unreadable: string }>;
}

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
  };
}
