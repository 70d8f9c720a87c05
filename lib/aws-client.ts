/**
 * What every SDK client the reconciler builds shares: the SDK's adaptive retry (no hand-rolled
 * backoff), and an endpoint, credentials or profile only when a caller gives one (the emulator, a
 * local bus, the CLI's --profile); otherwise the Lambda's own role through the default chain.
 */
import type { CloudFrontClientConfig } from '@aws-sdk/client-cloudfront';

export interface AwsClientOptions {
  readonly endpoint?: string | undefined;
  readonly maxAttempts?: number | undefined;
  /** Any SDK client's credentials setting: static keys or a provider. */
  readonly credentials?: CloudFrontClientConfig['credentials'];
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
}

export function awsClientConfig(options: AwsClientOptions, defaultMaxAttempts: number) {
  return {
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? defaultMaxAttempts,
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  } as const;
}
