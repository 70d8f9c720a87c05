/**
 * One shape for every error the reconciler raises: a name, a message that says what is wrong, the
 * cause passed through `ErrorOptions`, and whether trying again could help.
 *
 * `retryable` is what the event handler acts on: a retryable failure is rethrown so Lambda retries
 * it (throttling that persists, a 5xx, DEVELOPMENT that keeps changing); a non-retryable one (a bad
 * event, a broken setting, a refused call) goes to the failure queue at once, since a retry would
 * only fail the same way.
 */
export abstract class AutoPublishError extends Error {
  abstract readonly retryable: boolean;

  /** Each subclass names itself with a literal: minified bundles rename classes. */
  abstract override readonly name: string;

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
  }
}

/** Whether trying again could help. Unknown errors (bugs, the runtime's own) are retried. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof AutoPublishError) return error.retryable;
  return true;
}

/**
 * AWS errors that the same call will meet again: a refusal (IAM or SCP), a bad request, a missing
 * resource. Anything else from AWS (throttling, 5xx, a timeout, a dropped connection) may pass.
 */
const PERMANENT_AWS_ERRORS = new Set([
  'AccessDenied',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidArgument',
  'InvalidIfMatchVersion',
  'UnsupportedOperation',
  'MalformedXML',
  'ValidationException',
]);

export function isPermanentAwsError(error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  return typeof name === 'string' && PERMANENT_AWS_ERRORS.has(name);
}

/** "Name (HTTP 403): message" for an SDK error; the message for anything else. */
export function describeError(error: unknown): string {
  if (error instanceof Error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    return `${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message}`;
  }
  return String(error);
}
