/**
 * Counts what one SDK client sends, attempt by attempt (retries included), from inside the client:
 * a middleware in the `deserialize` step runs once per HTTP attempt, below the retry middleware, and
 * sees the parsed answer or error. This is how the bench tells the reconciler's calls from another
 * actor's (the emulator's calls() counts everyone's).
 */
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import { createCloudFrontClient } from '../lib/cloudfront-gateway';
import type { Config } from '../lib/config';

export interface CallCounts {
  /** Every request sent, per operation (throttled and failed attempts included). */
  readonly sent: Record<string, number>;
  /** Requests answered 400 Throttling, per operation (the SDK retried them, or gave up). */
  readonly throttled: Record<string, number>;
  /** Other error answers, by error name (412 PreconditionFailed, 404s…). */
  readonly errors: Record<string, number>;
}

export interface Counter {
  counts(): CallCounts;
  total(): number;
  throttled(): number;
  reset(): void;
}

export function instrument(client: CloudFrontClient): Counter {
  let sent: Record<string, number> = {};
  let throttled: Record<string, number> = {};
  let errors: Record<string, number> = {};
  const bump = (table: Record<string, number>, key: string) => {
    table[key] = (table[key] ?? 0) + 1;
  };
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const operation = String(context.commandName ?? 'Unknown').replace(/Command$/, '');
      bump(sent, operation);
      try {
        return await next(args);
      } catch (error) {
        const name = (error as { name?: string }).name ?? 'Error';
        if (name === 'Throttling' || name === 'ThrottlingException') bump(throttled, operation);
        else bump(errors, name);
        throw error;
      }
    },
    // `high` in deserialize: outside the deserializer (sees modelled errors), inside retries.
    { step: 'deserialize', priority: 'high', name: 'benchCallCounter' },
  );
  const sum = (t: Record<string, number>) => Object.values(t).reduce((a, b) => a + b, 0);
  return {
    counts: () => ({ sent: { ...sent }, throttled: { ...throttled }, errors: { ...errors } }),
    total: () => sum(sent),
    throttled: () => sum(throttled),
    reset: () => {
      sent = {};
      throttled = {};
      errors = {};
    },
  };
}

/**
 * The reconciler's CloudFront client as createRuntime builds it from `config` (endpoint, attempts,
 * pacer), counted: pass `client` as the runtime's `clients.cloudFront`.
 */
export function countedCloudFrontClient(
  config: Config,
  credentials: { accessKeyId: string; secretAccessKey: string },
): { client: CloudFrontClient; counter: Counter } {
  const client = createCloudFrontClient({
    endpoint: config.cloudFrontEndpoint,
    maxAttempts: config.maxAttempts,
    maxCallsPerSecond: config.maxCallsPerSecond,
    credentials,
  });
  return { client, counter: instrument(client) };
}
