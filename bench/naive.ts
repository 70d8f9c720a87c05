/**
 * NAIVE RECONCILER — a baseline for the benchmark only, never deployed.
 *
 * What a first attempt looks like: list every function, then for every one of them read its tags,
 * its DEVELOPMENT stage and its LIVE stage, and publish where it is opted in and LIVE differs. Same
 * SDK client settings (adaptive retry) and the same concurrency as the real sweep, so the
 * difference measured is the call pattern alone.
 */
import type { CloudFrontGateway, FunctionListing } from '../lib/cloudfront-gateway';
import { forEachWithConcurrency } from '../lib/sweep';

export interface NaiveReport {
  listed: number;
  published: number;
  failures: number;
  errors: string[];
}

export async function naiveReconcile(
  cloudfront: CloudFrontGateway,
  optedIn: (tags: Record<string, string>) => boolean,
  concurrency: number,
): Promise<NaiveReport> {
  // Both kinds (issue 19): the naive reconciler lists connection functions too, and treats them alike.
  const all: FunctionListing[] = [];
  for (const kind of ['function', 'connection'] as const) {
    for await (const page of cloudfront.listFunctions('DEVELOPMENT', undefined, kind)) all.push(...page);
  }
  let published = 0;
  const errors: string[] = [];
  await forEachWithConcurrency(all, concurrency, async (fn) => {
    try {
      const tags = await cloudfront.readTags(fn.arn);
      const development = await cloudfront.describe(fn, 'DEVELOPMENT');
      const live = await cloudfront.describe(fn, 'LIVE');
      if (tags === 'gone' || !development) return;
      if (!optedIn(tags)) return;
      if (live && live.etag === development.etag) return;
      const result = await cloudfront.publish(fn, development.etag);
      if (result === 'published') published += 1;
    } catch (error) {
      errors.push(`${fn.name}: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
  });
  return { listed: all.length, published, failures: errors.length, errors: errors.slice(0, 5) };
}
