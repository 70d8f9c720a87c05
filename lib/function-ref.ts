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
  const regexps = patterns.map((p) => new RegExp(`^${p.replace(/[-]/g, '\\-').replace(/\*/g, '[a-zA-Z0-9_-]*')}$`));
  return (name) => regexps.some((r) => r.test(name));
}

export const NAME_PATTERN_RULE = /^[a-zA-Z0-9_*-]{1,64}$/;
