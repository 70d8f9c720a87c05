/**
 * What every SDK client the reconciler builds shares: the SDK's adaptive retry (no hand-rolled
 * backoff), per-attempt timeouts that end a hung connection, and an endpoint, credentials or profile
 * only when a caller gives one (the emulator, a local bus, the CLI's --profile); otherwise the
 * Lambda's own role through the default chain.
 */
import type { CloudFrontClientConfig } from '@aws-sdk/client-cloudfront';

export interface AwsClientOptions {
  readonly endpoint?: string | undefined;
  readonly maxAttempts?: number | undefined;
  /** Any SDK client's credentials setting: static keys or a provider. */
  readonly credentials?: CloudFrontClientConfig['credentials'];
  readonly profile?: string | undefined;
  readonly region?: string | undefined;
  /** Per attempt; default REQUEST_TIMEOUT_MS. */
  readonly requestTimeoutMs?: number | undefined;
}

/** A deliberately long per-attempt timeout: a hung connection must end in a retry, not hang. */
export const REQUEST_TIMEOUT_MS = 10_000;
export const CONNECTION_TIMEOUT_MS = 3_000;

export function awsClientConfig(options: AwsClientOptions, defaultMaxAttempts: number) {
  return {
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? defaultMaxAttempts,
    // throwOnRequestTimeout: without it this SDK version only warns when the timeout passes, and a
    // hung connection hangs the call (test/cloudfront-client.test.ts, test/aws-clients.test.ts).
    requestHandler: { requestTimeout: options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS, connectionTimeout: CONNECTION_TIMEOUT_MS, throwOnRequestTimeout: true },
    ...(options.region ? { region: options.region } : {}),
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
    ...(options.profile ? { profile: options.profile } : {}),
  } as const;
}

/** A call that did not settle within its deadline; `name` is what the SDK names its own timeouts. */
export class DeadlineError extends Error {
  override name = 'TimeoutError';
}

/**
 * Runs `call` with a signal that aborts after `ms`, and rejects then whether or not the call heeds the
 * signal. The per-attempt timeouts bound one attempt; this bounds the whole call (every retry, every
 * page, a server that drips bytes), so a promise cached while it is pending cannot stay pending.
 */
export async function withDeadline<T>(ms: number, what: string, call: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DeadlineError(`${what} did not finish within ${ms} ms`);
      controller.abort(error);
      reject(error);
    }, ms);
  });
  try {
    return await Promise.race([call(controller.signal), expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** `work`, or the signal's reason as soon as it aborts (what is still running is left to its own abort). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    work.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(signal.aborted ? signal.reason : error);
      },
    );
  });
}
