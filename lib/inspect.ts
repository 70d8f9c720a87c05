/** A read-only view of every function's stages and opt-in, both kinds, for `cf-autopublish status` and the demo. */
import type { CloudFrontGateway, FunctionListing } from './cloudfront-gateway';
import type { Policy } from './decide';
import { FUNCTION_KINDS, type FunctionKind, kindOf } from './function-ref';
import { forEachWithConcurrency } from './sweep';

export interface FunctionState {
  readonly name: string;
  readonly arn: string;
  readonly kind: FunctionKind;
  readonly optedIn: boolean;
  readonly tagged: Readonly<Record<string, string>>;
  readonly developmentStatus: string;
  readonly developmentEtag: string | null;
  /** null: never published. */
  readonly liveEtag: string | null;
  readonly inSync: boolean;
  readonly keyValueStores: readonly string[];
}

export async function inspectFunctions(cloudfront: CloudFrontGateway, policy: Pick<Policy, 'optedIn'>, concurrency = 4): Promise<FunctionState[]> {
  const listed: FunctionListing[] = [];
  for (const kind of FUNCTION_KINDS) for await (const page of cloudfront.listFunctions('DEVELOPMENT', undefined, kind)) listed.push(...page);
  const states: FunctionState[] = [];
  await forEachWithConcurrency(listed, concurrency, async (fn) => {
    const [tags, development, live] = await Promise.all([cloudfront.readTags(fn.arn), cloudfront.describe(fn, 'DEVELOPMENT'), cloudfront.describe(fn, 'LIVE')]);
    if (tags === 'gone' || development === null) return; // deleted while we looked
    states.push({
      name: fn.name,
      arn: fn.arn,
      kind: kindOf(fn),
      optedIn: policy.optedIn(tags),
      tagged: tags,
      developmentStatus: development.status,
      developmentEtag: development.etag,
      liveEtag: live?.etag ?? null,
      inSync: live !== null && live.etag === development.etag,
      keyValueStores: fn.keyValueStores,
    });
  });
  // A name may be taken once per kind: the ordinary kind first, as in the listing.
  return states.sort((a, b) => a.name.localeCompare(b.name) || FUNCTION_KINDS.indexOf(a.kind) - FUNCTION_KINDS.indexOf(b.kind));
}
