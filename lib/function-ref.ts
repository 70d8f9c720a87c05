/** Names and ARNs of CloudFront Functions: validated before they ever reach a URL path. */

/** CloudFront's own rule for function names. */
export const FUNCTION_NAME_RULE = /^[a-zA-Z0-9_-]{1,64}$/;

export interface FunctionRef {
  readonly name: string;
  readonly arn: string;
}

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
