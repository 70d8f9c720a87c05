/**
 * Names, Ids and ARNs of CloudFront's two kinds of function: validated before they ever reach a URL path.
 *
 * `function`: a CloudFront Function (viewer request/response), addressed by its name.
 * `connection`: a connection function (the TLS handshake of a mutual-TLS distribution), addressed by
 * its Id; its name is for people (the name guard, log lines, outcomes) and may equal an ordinary
 * function's (docs/cloudfront-api.md#connection-functions).
 */

/** CloudFront's own rule for function names (both kinds). */
export const FUNCTION_NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;

/**
 * A connection function's Id. The model only bounds it (1–64 characters); we also keep it to the
 * characters a name may hold, so that nothing else ever reaches a URL path.
 */
export const CONNECTION_FUNCTION_ID_RULE = /^[a-zA-Z0-9_-]{1,64}$/;

export type FunctionKind = 'function' | 'connection';

export const FUNCTION_KINDS = ['function', 'connection'] as const satisfies readonly FunctionKind[];

/** An ordinary CloudFront Function. `kind` may be left out: refs written before connection functions mean this kind. */
export interface OrdinaryFunctionRef {
  readonly kind?: 'function';
  readonly name: string;
  readonly arn: string;
}

export interface ConnectionFunctionRef {
  readonly kind: 'connection';
  /** What the API takes in every path (`/connection-function/{Id}`). */
  readonly id: string;
  readonly name: string;
  readonly arn: string;
}

export type FunctionRef = OrdinaryFunctionRef | ConnectionFunctionRef;

export function kindOf(fn: { readonly kind?: FunctionKind | undefined }): FunctionKind {
  return fn.kind ?? 'function';
}

/** What the API addresses the function by: the name (ordinary kind) or the Id (connection kind). */
export function identifierOf(fn: FunctionRef): string {
  return fn.kind === 'connection' ? fn.id : fn.name;
}

/**
 * One function among both kinds: a name may be taken once per kind, so whatever is keyed on a
 * function (the sweep's stage listings, history) is keyed on this.
 */
export function functionKey(fn: FunctionRef): string {
  return fn.kind === 'connection' ? `connection-function/${fn.id}` : fn.name;
}

export function isConnectionFunctionId(value: unknown): value is string {
  return typeof value === 'string' && CONNECTION_FUNCTION_ID_RULE.test(value);
}

export function connectionFunctionArn(partition: string, account: string, id: string): string {
  return `arn:${partition}:cloudfront::${account}:connection-function/${id}`;
}

/** The ARN resource type of each kind (`function/<name>`, `connection-function/<Id>`). */
export const ARN_RESOURCE_TYPE = { function: 'function', connection: 'connection-function' } as const satisfies Record<FunctionKind, string>;

export interface CloudFrontArn {
  readonly partition: string;
  readonly account: string;
  /** `function`, `distribution`, `key-value-store`… */
  readonly resourceType: string;
  readonly resourceId: string;
}

export function isFunctionName(value: unknown): value is string {
  return typeof value === 'string' && FUNCTION_NAME_RULE.test(value);
}

const CLOUDFRONT_ARN = /^arn:(aws[a-z-]*):cloudfront::(\d{12}):([a-z-]+)\/(.+)$/;

/** Parses any CloudFront ARN; undefined when it is not one (another service, malformed). */
export function parseCloudFrontArn(arn: string): CloudFrontArn | undefined {
  const match = CLOUDFRONT_ARN.exec(arn);
  if (!match) return undefined;
  const [, partition, account, resourceType, resourceId] = match as unknown as [string, string, string, string, string];
  return { partition, account, resourceType, resourceId };
}

export function functionArn(partition: string, account: string, name: string): string {
  return `arn:${partition}:cloudfront::${account}:function/${name}`;
}

/** The partition a region belongs to; CloudFront events carry the region, not the partition. */
export function partitionOf(region: string | undefined): string {
  if (region?.startsWith('cn-')) return 'aws-cn';
  if (region?.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * Name patterns for AUTO_PUBLISH_ALLOWED_NAMES: `*` matches any run of name characters.
 * Kept apart from tags because tags can be set by anyone who can update the function.
 */
export function compileNamePatterns(patterns: readonly string[]): (name: string) => boolean {
  // A name with any other character could only match through a `*`, which never matches it.
  return (name) => NAME_CHARS.test(name) && patterns.some((pattern) => globMatches(pattern, name));
}

const NAME_CHARS = /^[a-zA-Z0-9_-]*$/;

/**
 * Whether `name` matches `pattern`, where `*` matches any run of characters: greedy, two pointers, no
 * backtracking regex. A pattern such as `a*a*a*…b` made a regex try every split of the name among its
 * stars; here a mismatch only moves the last star's start one character on, so a match costs at most
 * pattern length × name length steps.
 */
export function globMatches(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  // The last `*` seen, and where in the name its run currently ends.
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && pattern[p] !== '*' && pattern[p] === name[n]) {
      p++;
      n++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      // Let the last star take one more character; earlier stars never need to give any back.
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

export const NAME_PATTERN_RULE = /^[a-zA-Z0-9_*-]{1,64}$/;

/**
 * A connection function an event names only in part: its Id (a TagResource ARN, an Update's path) or
 * only its name. `reconcile` resolves it by one read before anything is decided: DescribeConnectionFunction
 * by Id (which also answers the name), or the DEVELOPMENT listing for a name. `arn` is the function's ARN
 * when the Id is known, else the account's `connection-function/*`, for an outcome that must name something.
 */
export interface ConnectionFunctionClue {
  readonly kind: 'connection';
  readonly unresolved: true;
  readonly id?: string;
  readonly name?: string;
  readonly arn: string;
}

export function isClue(fn: FunctionRef | ConnectionFunctionClue): fn is ConnectionFunctionClue {
  return 'unresolved' in fn;
}

/** What an outcome calls a function, resolved or not. */
export function displayOf(fn: FunctionRef | ConnectionFunctionClue): { readonly name: string; readonly arn: string } {
  return isClue(fn) ? { name: fn.name ?? fn.id ?? '(unknown connection function)', arn: fn.arn } : fn;
}
