/**
 * The functional core: from what has been observed of one function to the next step.
 *
 * It asks for reads only when it needs them (ACK-style: compare desired and observed state, then
 * make the smallest correcting write), so the sweep pays for a DescribeFunction only on opted-in
 * candidates, and the event path can pre-read DEVELOPMENT in parallel with the tags.
 */

import type { GateVerdict } from './gate';

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
  | 'blocked'
  | 'paused'
  | 'failed';

/** Every Action, at run time: for what must cover them all (the stack's dashboard, its test). */
export const ACTIONS = [
  'published',
  'already-published',
  'skipped-not-opted-in',
  'skipped-not-allowed',
  'skipped-in-sync',
  'gone',
  'would-publish',
  'blocked',
  'paused',
  'failed',
] as const satisfies readonly Action[];
// Compile-time completeness: an Action missing from ACTIONS fails here ("does not satisfy 'never'").
type NoneMissing<Missing extends never> = Missing;
// biome-ignore lint/correctness/noUnusedVariables: a compile-time check; nothing uses the type itself
type ActionsComplete = NoneMissing<Exclude<Action, (typeof ACTIONS)[number]>>;

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
   * `tags` were read before a 412 and not since. They may still end a reconcile that changes nothing
   * (someone else published: in sync), and re-reading them for that would be a call per raced
   * duplicate; but what is tested or published must be opted in now, so those ask for the tags again.
   */
  readonly tagsBeforeConflict?: boolean;
  /**
   * ...unless LIVE holds exactly this ETag: one of our own attempts may have landed before its
   * answer was lost (the SDK retried it and the retry met the no-op 412). Then the publish is ours.
   */
  readonly ownPublishMayHaveLanded?: string;
  /** The publish gate's verdict on one DEVELOPMENT ETag (only that version: a newer one is untested). */
  readonly tested?: { readonly etag: string; readonly verdict: GateVerdict };
  /** The LIVE ETag whose code and config are in the history bucket (written by this reconcile). */
  readonly saved?: string;
  /** The pause in force (its text, lib/pause.ts), read before the reconcile; undefined: not paused. */
  readonly paused?: string;
  /**
   * The DEVELOPMENT ETag a publish was just refused (412) for. While DEVELOPMENT still holds it and
   * LIVE's ETag differs, LIVE may hold that very version under an ETag of its own (whether a connection
   * function's LIVE keeps DEVELOPMENT's ETag is unconfirmed: docs/cloudfront-api.md#connection-functions)
   * and the 412 be the no-op publish's: only the two stages' code and configuration can tell.
   */
  readonly refused?: string;
  /** Whether DEVELOPMENT (`etag`) and LIVE (`live`) hold the same code and configuration, read after a refusal. */
  readonly compared?: { readonly etag: string; readonly live: string; readonly same: boolean };
}

export interface Policy {
  readonly optedIn: (tags: Readonly<Record<string, string>>) => boolean;
  readonly nameAllowed: (name: string) => boolean;
  readonly dryRun: boolean;
  /** Test every version with TestFunction before publishing it (PUBLISH_GATE=smoke). */
  readonly gate: boolean;
  /**
   * Save the LIVE version to the history bucket before a publish replaces it (HISTORY_BUCKET set).
   * Optional so that a policy built before history existed means "off".
   */
  readonly history?: boolean;
}

export type Step =
  | { readonly kind: 'read-tags' }
  | { readonly kind: 'read'; readonly stage: Stage }
  /**
   * `readLive`: read LIVE alongside the test (one round trip instead of two). History needs LIVE before
   * the publish that follows a pass; only a blocked version makes that read one too many.
   */
  | { readonly kind: 'test'; readonly etag: string; readonly readLive?: true }
  /** Save LIVE (`live`, about to be replaced) before `etag` (DEVELOPMENT) is published over it. */
  | { readonly kind: 'save-history'; readonly etag: string; readonly live: string }
  | { readonly kind: 'publish'; readonly etag: string }
  /** Read both stages' code: does LIVE (`live`) hold the version DEVELOPMENT (`etag`) holds? */
  | { readonly kind: 'compare'; readonly etag: string; readonly live: string }
  | { readonly kind: 'done'; readonly action: Exclude<Action, 'failed'>; readonly etag?: string };

/**
 * Whether LIVE equals DEVELOPMENT. Only ETags can say "in sync" (a publish copies DEVELOPMENT's ETag to
 * LIVE). A status can only say "differs": UNPUBLISHED. Whether DEVELOPMENT of an associated function
 * still says DEPLOYED after an update is unconfirmed (docs/cloudfront-api.md#status-values), so every
 * other status, known or not, is 'unknown' and LIVE gets read.
 */
export function stageSync(development: StageView, live: StageView | null | undefined): Sync {
  if (live !== undefined) return live !== null && live.etag === development.etag ? 'in-sync' : 'differs';
  return development.status === 'UNPUBLISHED' ? 'differs' : 'unknown';
}

export type Sync = 'in-sync' | 'differs' | 'unknown';

/** What a ListFunctions item says of one stage: no ETag, only a status and a time. */
export interface ListedStage {
  readonly status: string;
  readonly lastModified: Date | undefined;
}

/** The statuses whose meaning is known; anything else makes a function a sweep candidate. */
const KNOWN_STATUSES = new Set(['UNPUBLISHED', 'UNASSOCIATED', 'DEPLOYED']);

/**
 * Whether the sweep must look at a function, from the two listings alone (no per-function read for a
 * function nobody touched). Correct whatever DEVELOPMENT's status says after an update of an
 * associated function, and whether a publish sets LIVE's LastModifiedTime or copies DEVELOPMENT's:
 * in every reading an update after the last publish leaves DEVELOPMENT's time later than LIVE's
 * (docs/cloudfront-api.md#unconfirmed-behaviours). A time we cannot read counts as "may differ".
 */
export function isSweepCandidate(development: ListedStage, live: ListedStage | undefined): boolean {
  if (development.status === 'UNPUBLISHED' || !KNOWN_STATUSES.has(development.status)) return true;
  if (live === undefined) return true;
  if (development.lastModified === undefined || live.lastModified === undefined) return true;
  return development.lastModified.getTime() > live.lastModified.getTime();
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
    case 'differs': {
      if (seen.refused === etag && seen.live) {
        const compared = seen.compared?.etag === etag && seen.compared.live === seen.live.etag ? seen.compared : undefined;
        if (compared === undefined) return { kind: 'compare', etag, live: seen.live.etag };
        if (compared.same) return { kind: 'done', action: inSyncAction(seen, etag), etag };
      }
      // Every step below tests, publishes or reports on a publish: never on tags from before a 412.
      if (seen.tagsBeforeConflict) return { kind: 'read-tags' };
      // Paused: the reads that decide happen, but neither TestFunction nor PublishFunction (dry run too).
      if (seen.paused !== undefined) return { kind: 'done', action: 'paused', etag };
      // The gate runs in a dry run too: what would be published must pass what would be tested.
      if (policy.gate && seen.tested?.etag !== etag) return { kind: 'test', etag, ...(liveWanted(seen, policy) ? { readLive: true } : {}) };
      if (policy.gate && !seen.tested?.verdict.passed) return { kind: 'done', action: 'blocked', etag };
      if (policy.dryRun) return { kind: 'done', action: 'would-publish', etag };
      return (policy.history && historyStep(seen, etag)) || { kind: 'publish', etag };
    }
  }
}

/** History will ask for LIVE before the publish (a dry run publishes nothing, so it saves nothing). */
function liveWanted(seen: Observation, policy: Policy): boolean {
  return policy.history === true && !policy.dryRun && seen.live === undefined;
}

/**
 * Before a publish: LIVE must be known (an UNPUBLISHED DEVELOPMENT alone does not say whether a LIVE
 * exists), and, when there is one, saved. A never-published function has nothing to lose.
 */
function historyStep(seen: Observation, etag: string): Step | undefined {
  if (seen.live === undefined) return { kind: 'read', stage: 'LIVE' };
  if (seen.live === null || seen.saved === seen.live.etag) return undefined;
  return { kind: 'save-history', etag, live: seen.live.etag };
}

function inSyncAction(seen: Observation, etag: string): 'published' | 'already-published' | 'skipped-in-sync' {
  if (!seen.afterConflict) return 'skipped-in-sync';
  return seen.ownPublishMayHaveLanded === etag ? 'published' : 'already-published';
}

function etagOf(development: StageView | undefined): { etag?: string } {
  return development ? { etag: development.etag } : {};
}
