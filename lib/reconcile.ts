/**
 * The imperative shell around `decide`: performs the reads it asks for, publishes, and handles the
 * 412 races. Both the event path and the sweep reconcile one function through here.
 */
import type { CloudFrontGateway } from './cloudfront-gateway';
import { type Action, decide, type Observation, type Policy } from './decide';
import type { FunctionRef } from './function-ref';

export interface Outcome {
  readonly functionName: string;
  readonly functionArn: string;
  /** What made us look: the normalised eventName, or `sweep`. */
  readonly trigger: string;
  readonly action: Action;
  /** The DEVELOPMENT ETag the decision was made on, when one was read. */
  readonly etag?: string;
  readonly dryRun: boolean;
  /** Publish attempts made (0 when none). */
  readonly publishAttempts: number;
  readonly error?: string;
}

export interface ReconcileOptions {
  readonly cloudfront: CloudFrontGateway;
  readonly policy: Policy;
  /**
   * Read DEVELOPMENT together with the tags (event path: one round trip instead of two), or only once
   * the tags say the function is opted in (sweep: most candidates are not, so skip the Describe).
   */
  readonly eagerDevelopment: boolean;
  /**
   * With `eagerDevelopment`, also read LIVE in that first round trip. Every status but UNPUBLISHED needs
   * LIVE, so this trades one call on UNPUBLISHED and not-opted-in functions for one round trip on the
   * others. Off by default; `npm run bench` measures both (bench/results.json, eventPath).
   */
  readonly eagerLive?: boolean;
}

export const MAX_PUBLISH_ATTEMPTS = 3;

export class PublishConflictError extends Error {
  override name = 'PublishConflictError';
  constructor(readonly functionName: string) {
    super(`${functionName}: PublishFunction answered 412 PreconditionFailed ${MAX_PUBLISH_ATTEMPTS} times; DEVELOPMENT keeps changing under us`);
  }
}

/** Wraps an unexpected failure so that the error always names the function it concerns. */
export class ReconcileError extends Error {
  override name = 'ReconcileError';
  constructor(
    readonly functionName: string,
    override readonly cause: unknown,
  ) {
    super(`${functionName}: ${describeError(cause)}`);
  }
}

/**
 * Brings one function to its desired state. Resolves with the outcome; rejects (ReconcileError or
 * PublishConflictError, both naming the function) when it could not decide or publish.
 */
export async function reconcile(fn: FunctionRef, trigger: string, options: ReconcileOptions): Promise<Outcome> {
  const { cloudfront, policy } = options;
  let seen: Observation = {};
  let attempts = 0;
  const outcome = (action: Action, etag?: string): Outcome => ({
    functionName: fn.name,
    functionArn: fn.arn,
    trigger,
    action,
    ...(etag !== undefined ? { etag } : {}),
    dryRun: policy.dryRun,
    publishAttempts: attempts,
  });

  try {
    if (options.eagerDevelopment && policy.nameAllowed(fn.name)) {
      const [tags, development, live] = await Promise.all([
        cloudfront.readTags(fn.arn),
        cloudfront.describe(fn.name, 'DEVELOPMENT'),
        options.eagerLive ? cloudfront.describe(fn.name, 'LIVE') : undefined,
      ]);
      seen = { tags, development, ...(options.eagerLive ? { live } : {}) };
    }
    for (;;) {
      const step = decide(fn.name, seen, policy);
      switch (step.kind) {
        case 'done':
          return outcome(step.action, step.etag);
        case 'read-tags':
          seen = { ...seen, tags: await cloudfront.readTags(fn.arn) };
          break;
        case 'read':
          seen = step.stage === 'DEVELOPMENT'
            ? { ...seen, development: await cloudfront.describe(fn.name, 'DEVELOPMENT') }
            : { ...seen, live: await cloudfront.describe(fn.name, 'LIVE') };
          break;
        case 'publish': {
          attempts += 1;
          const result = await cloudfront.publish(fn.name, step.etag);
          if (result === 'published') return outcome('published', step.etag);
          if (result === 'gone') return outcome('gone', step.etag);
          const ownPublishMayHaveLanded = result === 'precondition-failed-on-retry' ? { ownPublishMayHaveLanded: step.etag } : {};
          // 412: someone changed DEVELOPMENT or published first (or the no-op-publish quirk). Re-read
          // everything, the tags included, so the retry is decided on the present, not the past.
          if (attempts >= MAX_PUBLISH_ATTEMPTS) throw new PublishConflictError(fn.name);
          const [tags, development, live] = await Promise.all([
            cloudfront.readTags(fn.arn),
            cloudfront.describe(fn.name, 'DEVELOPMENT'),
            cloudfront.describe(fn.name, 'LIVE'),
          ]);
          seen = { tags, development, live, afterConflict: true, ...ownPublishMayHaveLanded };
          break;
        }
      }
    }
  } catch (error) {
    if (error instanceof PublishConflictError) throw error;
    throw new ReconcileError(fn.name, error);
  }
}

export function failedOutcome(fn: FunctionRef, trigger: string, dryRun: boolean, error: unknown): Outcome {
  return {
    functionName: fn.name,
    functionArn: fn.arn,
    trigger,
    action: 'failed',
    dryRun,
    publishAttempts: error instanceof PublishConflictError ? MAX_PUBLISH_ATTEMPTS : 0,
    error: error instanceof Error ? error.message : String(error),
  };
}

export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
  }
  return String(error);
}
