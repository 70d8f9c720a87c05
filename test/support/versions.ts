/**
 * CloudFront ETags are version tokens that every function shares: version 1 of every function is
 * `ETVPDKIKX0DER`, version 2 of every function has one same ETag, and so on (docs/cloudfront-api.md,
 * ETags). An ETag names a version only together with its function, so tests key versions on both.
 */
export const versionKey = (name: string, etag: string | undefined): string => `${name}@${etag ?? '(none)'}`;

/** The keys that occur more than once (a version published twice, a read counted twice...). */
export function repeated(keys: readonly string[]): string[] {
  const seen = new Set<string>();
  const twice = new Set<string>();
  for (const key of keys) (seen.has(key) ? twice : seen).add(key);
  return [...twice];
}
