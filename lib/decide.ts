/**
 * The functional core: from what has been observed of one function to the next step.
 *
 * It asks for reads only when it needs them (ACK-style: compare desired and observed state, then
 * make the smallest correcting write), so the sweep pays for a DescribeFunction only on opted-in
 * candidates, and the event path can pre-read DEVELOPMENT in parallel with the tags.
 */

export type Stage = 'DEVELOPMENT' | 'LIVE';

export interface StageView {
  readonly etag: string;
  readonly status: string;
}

export type Action =
  | 'published'
  | 'already-published'
  | 'skipped-not-opted-in'
  | 'skipped-not-allowed'
  | 'skipped-in-sync'
  | 'gone'
  | 'would-publish'
  | 'failed';

export interface Observation {
  /** undefined: not read yet; 'gone': the function no longer exists. */
  readonly tags?: Readonly<Record<string, string>> | 'gone';
  /** undefined: not read yet; null: the function no longer exists. */
  readonly development?: StageView | null;
  /** undefined: not read yet; null: never published. */
  readonly live?: StageView | null;
  /** A publish was already answered 412: being in sync now means someone else published it... */
  readonly afterConflict?: boolean;
  /**
   * ...unless LIVE holds exactly this ETag: one of our own attempts may have landed before its
   * answer was lost (the SDK retried it and the retry met the no-op 412). Then the publish is ours.
   */
  readonly ownPublishMayHaveLanded?: string;
}

export interface Policy {
  readonly optedIn: (tags: Readonly<Record<string, string>>) => boolean;
  readonly nameAllowed: (name: string) => boolean;
  readonly dryRun: boolean;
}

export type Step =
  | { readonly kind: 'read-tags' }
  | { readonly kind: 'read'; readonly stage: Stage }
  | { readonly kind: 'publish'; readonly etag: string }
  | { readonly kind: 'done'; readonly action: Exclude<Action, 'failed'>; readonly etag?: string };

/** Statuses that say LIVE equals DEVELOPMENT without reading LIVE (shared doc, "Status values"). */
const IN_SYNC_STATUSES = new Set(['UNASSOCIATED', 'DEPLOYED']);

/**
 * Whether LIVE equals DEVELOPMENT. When LIVE has been read, the ETags decide (a publish copies
 * DEVELOPMENT's ETag to LIVE); otherwise DEVELOPMENT's status does, and an unknown status is
 * 'unknown' so that LIVE gets read.
 */
export function stageSync(development: StageView, live: StageView | null | undefined): Sync {
  if (live !== undefined) return live !== null && live.etag === development.etag ? 'in-sync' : 'differs';
  return statusSync(development.status);
}

export type Sync = 'in-sync' | 'differs' | 'unknown';

/** What DEVELOPMENT's status alone says about LIVE. */
export function statusSync(status: string): Sync {
  if (status === 'UNPUBLISHED') return 'differs';
  return IN_SYNC_STATUSES.has(status) ? 'in-sync' : 'unknown';
}

export function decide(name: string, seen: Observation, policy: Policy): Step {
  // The name guard costs no call, so it goes first: a forbidden name is never even read.
  if (!policy.nameAllowed(name)) return { kind: 'done', action: 'skipped-not-allowed' };
  if (seen.tags === 'gone' || seen.development === null) return { kind: 'done', action: 'gone' };
  if (seen.tags === undefined) return { kind: 'read-tags' };
  if (!policy.optedIn(seen.tags)) return { kind: 'done', action: 'skipped-not-opted-in', ...etagOf(seen.development) };
  if (seen.development === undefined) return { kind: 'read', stage: 'DEVELOPMENT' };

  const etag = seen.development.etag;
  switch (stageSync(seen.development, seen.live)) {
    case 'in-sync':
      return { kind: 'done', action: inSyncAction(seen, etag), etag };
    case 'unknown':
      return { kind: 'read', stage: 'LIVE' };
    case 'differs':
      return policy.dryRun ? { kind: 'done', action: 'would-publish', etag } : { kind: 'publish', etag };
  }
}

function inSyncAction(seen: Observation, etag: string): 'published' | 'already-published' | 'skipped-in-sync' {
  if (!seen.afterConflict) return 'skipped-in-sync';
  return seen.ownPublishMayHaveLanded === etag ? 'published' : 'already-published';
}

function etagOf(development: StageView | undefined): { etag?: string } {
  return development ? { etag: development.etag } : {};
}
