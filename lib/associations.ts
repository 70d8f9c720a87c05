/**
 * The account's function associations (function ARN → the event types its distributions run it on),
 * as the publish gate reads them: ListDistributions, one page per 100 distributions.
 *
 * Two ways to read them. `freshAssociations`: once per invocation, shared by every function it tests
 * (the sweep's, the CLI's). `associationsCache`: kept in the container for ASSOCIATIONS_TTL_SECONDS
 * per account, so an event costs the same in an account with 1,500 distributions as with 15 (the event
 * path's). The trade (docs/publish-gate.md, "Associations"): an event type associated since the read
 * can be missed for at most the TTL on one container; a distribution event dropping the cache in the
 * container that receives it, and the next sweep, which reads fresh, catch it.
 */
import type { CloudFrontGateway } from './cloudfront-gateway';
import type { EventType } from './gate';

export interface AssociationsReader {
  /** The event types `arn` is associated with; undefined: no distribution runs it. */
  typesOf(arn: string, signal?: AbortSignal): Promise<ReadonlySet<EventType> | undefined>;
}

/** One invocation's read, shared by every function it tests; a failed read is not kept (the next function tries again). */
export function freshAssociations(cloudfront: CloudFrontGateway): AssociationsReader {
  let associations: ReturnType<CloudFrontGateway['listFunctionAssociations']> | undefined;
  return {
    async typesOf(arn, signal) {
      associations ??= cloudfront.listFunctionAssociations(signal);
      try {
        return (await associations).get(arn);
      } catch (error) {
        associations = undefined;
        throw error;
      }
    },
  };
}

/**
 * What one cached read holds: the associations, and every function that existed when they were read
 * (the DEVELOPMENT listing, read alongside). A function outside `known` was created since: the read
 * cannot speak for it, so it triggers a fresh one. A known function absent from `associations` had
 * none at the time of the read.
 */
interface Snapshot {
  readonly associations: ReadonlyMap<string, ReadonlySet<EventType>>;
  readonly known: ReadonlySet<string>;
}

interface Entry {
  readonly at: number;
  readonly snapshot: Promise<Snapshot>;
}

export interface AssociationsCache {
  /** The reader of one invocation in `account` (single-account mode: any fixed key). */
  readerFor(account: string, cloudfront: CloudFrontGateway): AssociationsReader;
  /** A distribution changed: forget what was read, for `account`, or for every account when undefined. */
  drop(account?: string): void;
}

/**
 * The container's associations, per account, each kept `ttlSeconds` from the moment its read began.
 * `ttlSeconds` 0: every invocation reads its own (as `freshAssociations`). Read at most once per TTL
 * per account, concurrent invocations sharing a read in flight; an invocation reads fresh at most
 * once, whatever it finds unknown.
 */
export function associationsCache(options: { ttlSeconds: number; now?: () => number }): AssociationsCache {
  const ttlMs = options.ttlSeconds * 1000;
  const now = options.now ?? Date.now;
  const entries = new Map<string, Entry>();

  const read = (account: string, cloudfront: CloudFrontGateway, signal?: AbortSignal): Entry => {
    const entry: Entry = { at: now(), snapshot: readSnapshot(cloudfront, signal) };
    entries.set(account, entry);
    return entry;
  };
  const settled = async (account: string, entry: Entry): Promise<Snapshot> => {
    try {
      return await entry.snapshot;
    } catch (error) {
      if (entries.get(account) === entry) entries.delete(account); // a failed read is not kept
      throw error;
    }
  };

  return {
    readerFor(account, cloudfront) {
      if (ttlMs === 0) return freshAssociations(cloudfront);
      let own: Entry | undefined;
      return {
        async typesOf(arn, signal) {
          const cached = own ?? entries.get(account);
          if (cached && (cached === own || now() - cached.at < ttlMs)) {
            const snapshot = await settled(account, cached);
            // After its own fresh read, an invocation takes what that read says, known or not
            // (a function just created may not be listed yet).
            if (cached === own || snapshot.known.has(arn)) return snapshot.associations.get(arn);
          }
          own = read(account, cloudfront, signal);
          try {
            return (await settled(account, own)).associations.get(arn);
          } catch (error) {
            own = undefined; // the next function of this invocation tries again
            throw error;
          }
        },
      };
    },
    drop(account) {
      if (account === undefined) entries.clear();
      else entries.delete(account);
    },
  };
}

async function readSnapshot(cloudfront: CloudFrontGateway, signal?: AbortSignal): Promise<Snapshot> {
  const listFunctions = async () => {
    const known = new Set<string>();
    for await (const page of cloudfront.listFunctions('DEVELOPMENT', signal)) for (const fn of page) known.add(fn.arn);
    return known;
  };
  const [associations, known] = await Promise.all([cloudfront.listFunctionAssociations(signal), listFunctions()]);
  return { associations, known };
}
