/**
 * The imperative shell around `decide`: performs the reads it asks for, publishes, and handles the
 * 412 races. Both the event path and the sweep reconcile one function through here.
 */
import { CloudFrontAnswerError, type CloudFrontGateway, type DescribedStage, type FunctionSettings } from './cloudfront-gateway';
import { type Action, decide, type Observation, type Policy } from './decide';
import { AutoPublishError, describeError, isPermanentAwsError, isRetryable } from './errors';
import { type ConnectionFunctionClue, displayOf, type FunctionRef, isClue, isFunctionName } from './function-ref';
import type { Audit, History } from './history';
import type { PublishGate } from './publish-gate';

export interface Outcome {
  readonly functionName: string;
  readonly functionArn: string;
  /** What made us look: the normalised eventName, or `sweep`. */
  readonly trigger: string;
  readonly action: Action;
  /** The DEVELOPMENT ETag the decision was made on, when one was read. */
  readonly etag?: string;
  readonly dryRun: boolean;
  /** Publish attempts made (0 when none). */
  readonly publishAttempts: number;
  readonly error?: string;
  /** Why the gate blocked the publish (action `blocked`). */
  readonly blocked?: { readonly reason: string; readonly testCase: string; readonly computeUtilization: number | undefined };
  /** The history key of the LIVE version this reconcile saved before replacing it. */
  readonly history?: string;
  /** The pause's text (action `paused`). */
  readonly pause?: string;
  /** Event path: who made the change (CloudTrail `userIdentity.arn`) and the record's `eventID`. */
  readonly actor?: string;
  readonly eventId?: string;
  /** Event path: the caller's address, for the log line only (never announced). */
  readonly sourceIPAddress?: string;
}

export interface ReconcileOptions {
  readonly cloudfront: CloudFrontGateway;
  readonly policy: Policy;
  /**
   * Read DEVELOPMENT together with the tags (event path: one round trip instead of two), or only once
   * the tags say the function is opted in (sweep: most candidates are not, so skip the Describe).
   */
  readonly eagerDevelopment: boolean;
  /**
   * With `eagerDevelopment`, also read LIVE in that first round trip. Every status but UNPUBLISHED needs
   * LIVE, so this trades one call on UNPUBLISHED and not-opted-in functions for one round trip on the
   * others. Off by default; `npm run bench` measures both (bench/results.json, eventPath).
   */
  readonly eagerLive?: boolean;
  /** Runs before every publish when the policy says so (lib/publish-gate.ts). */
  readonly gate?: PublishGate;
  /**
   * The sweep's hard stop, for what the gate reads besides CloudFront (its S3 read): the gateway the
   * sweep hands in is bound to it already.
   */
  readonly signal?: AbortSignal;
  /** Where LIVE is saved before a publish replaces it, when the policy says so (lib/history.ts). */
  readonly history?: History;
  /** Who made the change that triggered this reconcile (the event path's CloudTrail record). */
  readonly audit?: Audit;
  /** The pause in force, read once for the invocation (lib/pause.ts); undefined: not paused. */
  readonly paused?: string | undefined;
}

export const MAX_PUBLISH_ATTEMPTS = 3;

/** How far a reconcile got before it failed: what the failed outcome reports. */
export interface ReconcileProgress {
  readonly publishAttempts: number;
  /** The last DEVELOPMENT ETag read, when one was. */
  readonly etag?: string;
  /** The history key saved, when one was (the write stands even if the publish then failed). */
  readonly history?: string;
}

/** A reconcile that failed; always names the function, and says how far it got. */
export class ReconcileError extends AutoPublishError {
  override name = 'ReconcileError';
  readonly retryable: boolean;
  constructor(
    readonly functionName: string,
    readonly progress: ReconcileProgress,
    cause: unknown,
    message = `${functionName}: ${describeError(cause)}`,
  ) {
    super(message, { cause });
    // A refusal (IAM, SCP) or a bad request meets the same answer again; throttling and 5xx may pass.
    this.retryable = cause === undefined || (isRetryable(cause) && !isPermanentAwsError(cause));
  }
}

/** DEVELOPMENT kept changing under us: a later try, on fresher state, may well succeed. */
export class PublishConflictError extends ReconcileError {
  override name = 'PublishConflictError';
  constructor(functionName: string, progress: ReconcileProgress) {
    super(
      functionName,
      progress,
      undefined,
      `${functionName}: PublishFunction answered 412 PreconditionFailed ${MAX_PUBLISH_ATTEMPTS} times; DEVELOPMENT keeps changing under us`,
    );
  }
}

/** The gateway's stage views carry the configuration history saves beside the code. */
type Seen = Omit<Observation, 'development' | 'live'> & { readonly development?: DescribedStage | null; readonly live?: DescribedStage | null };

/**
 * Brings one function to its desired state. Resolves with the outcome; rejects (ReconcileError or
 * PublishConflictError, both naming the function) when it could not decide or publish.
 */
export async function reconcile(target: FunctionRef | ConnectionFunctionClue, trigger: string, options: ReconcileOptions): Promise<Outcome> {
  const { cloudfront, policy } = options;
  // Until a clue is resolved, outcomes and errors name what the event named.
  let label = displayOf(target);
  // A clue is resolved first thing below, before any other call reads `fn`.
  let fn = target as FunctionRef;
  // The pause belongs to every observation of this reconcile, re-reads included.
  const paused = options.paused !== undefined ? { paused: options.paused } : {};
  let seen: Seen = { ...paused };
  let attempts = 0;
  let conflicts = 0;
  let saved: string | undefined;
  const outcome = (action: Action, etag?: string): Outcome => {
    // A block is explained by the verdict on the version it blocked, the one `seen` still holds.
    const verdict = action === 'blocked' ? seen.tested?.verdict : undefined;
    return {
      functionName: label.name,
      functionArn: label.arn,
      trigger,
      action,
      ...(etag !== undefined ? { etag } : {}),
      dryRun: policy.dryRun,
      publishAttempts: attempts,
      ...(saved !== undefined ? { history: saved } : {}),
      ...(verdict && !verdict.passed
        ? { blocked: { reason: verdict.reason, testCase: verdict.testCase, computeUtilization: verdict.computeUtilization } }
        : {}),
      ...(action === 'paused' && options.paused !== undefined ? { pause: options.paused } : {}),
    };
  };
  // Every 412-like answer re-reads both stages before anything else is decided; a verdict stays only
  // while DEVELOPMENT still holds the version it was given for. The tags are re-read with them when a
  // test is refused (DEVELOPMENT moved on: a new version to test, with the tags), otherwise only once
  // `decide` means to test or publish again: a 412 on a publish mostly means someone else published
  // (a raced duplicate delivery), and in sync needs no tags.
  const reread = async (extra: Partial<Seen>, withTags: boolean): Promise<Seen> => {
    if (++conflicts >= MAX_PUBLISH_ATTEMPTS) throw new PublishConflictError(fn.name, progress());
    const [tags, development, live] = await Promise.all([
      withTags ? cloudfront.readTags(fn.arn) : seen.tags,
      cloudfront.describe(fn, 'DEVELOPMENT'),
      cloudfront.describe(fn, 'LIVE'),
    ]);
    const tested = seen.tested && development?.etag === seen.tested.etag ? { tested: seen.tested } : {};
    // A LIVE already saved stays saved: `decide` compares it with the LIVE just read.
    const kept = seen.saved !== undefined ? { saved: seen.saved } : {};
    return { tags, tagsBeforeConflict: !withTags, development, live, afterConflict: true, ...tested, ...kept, ...paused, ...extra };
  };

  const progress = (): ReconcileProgress => ({
    publishAttempts: attempts,
    ...(seen.development ? { etag: seen.development.etag } : {}),
    ...(saved !== undefined ? { history: saved } : {}),
  });
  try {
    if (isClue(target)) {
      const resolved = await resolveConnectionFunction(cloudfront, target);
      if (resolved === null) return outcome('gone');
      fn = resolved.fn;
      label = fn;
      // Resolving by Id read DEVELOPMENT already: the read `decide` would ask for first.
      if (resolved.development) seen = { ...seen, development: resolved.development };
    }
    if (options.eagerDevelopment && policy.nameAllowed(fn.name)) {
      const [tags, development, live] = await Promise.all([
        cloudfront.readTags(fn.arn),
        seen.development ?? cloudfront.describe(fn, 'DEVELOPMENT'),
        options.eagerLive ? cloudfront.describe(fn, 'LIVE') : undefined,
      ]);
      seen = { ...seen, tags, development, ...(options.eagerLive ? { live } : {}) };
    }
    for (;;) {
      const step = decide(fn.name, seen, policy);
      switch (step.kind) {
        case 'done':
          return outcome(step.action, step.etag);
        case 'read-tags':
          seen = { ...seen, tags: await cloudfront.readTags(fn.arn), tagsBeforeConflict: false };
          break;
        case 'read':
          seen =
            step.stage === 'DEVELOPMENT'
              ? { ...seen, development: await cloudfront.describe(fn, 'DEVELOPMENT') }
              : { ...seen, live: await cloudfront.describe(fn, 'LIVE') };
          break;
        case 'test': {
          if (!options.gate) throw new TypeError('reconcile: the policy asks for the publish gate, but no gate was given');
          const [result, live] = await Promise.all([
            options.gate.test(fn, step.etag, seen.tags as Readonly<Record<string, string>>, options.signal),
            step.readLive ? cloudfront.describe(fn, 'LIVE') : undefined,
          ]);
          if (result === 'gone') return outcome('gone', step.etag);
          // DEVELOPMENT moved on from the version we meant to test: decide again on the present.
          if (result === 'precondition-failed') seen = await reread({}, true);
          else seen = { ...seen, tested: { etag: step.etag, verdict: result }, ...(step.readLive ? { live } : {}) };
          break;
        }
        case 'save-history': {
          if (!options.history) throw new TypeError('reconcile: the policy asks for history, but no history store was given');
          // GetFunction answers the code with its own ETag: the key names the version whose code is
          // saved. LIVE that moved since DescribeFunction (someone published) would pair this code with
          // another version's config: decide again on the present instead.
          const code = await cloudfront.getCode(fn, 'LIVE');
          const config = seen.live?.config;
          if (code === null || code.etag !== step.live || !config) {
            seen = await reread({}, false);
            break;
          }
          const { actor, eventId } = options.audit ?? {};
          saved = await options.history.save(fn, code, config, {
            etag: step.etag,
            trigger,
            ...(actor !== undefined ? { actor } : {}),
            ...(eventId !== undefined ? { eventId } : {}),
          });
          seen = { ...seen, saved: step.live };
          break;
        }
        case 'publish': {
          attempts += 1;
          const result = await cloudfront.publish(fn, step.etag);
          if (result === 'published') return outcome('published', step.etag);
          if (result === 'gone') return outcome('gone', step.etag);
          // 412: someone changed DEVELOPMENT or published first (or the no-op-publish quirk). Re-read
          // both stages, so the retry is decided on the present, not the past; `decide` asks for the
          // tags again before any test or publish.
          seen = await reread({ refused: step.etag, ...(result === 'precondition-failed-on-retry' ? { ownPublishMayHaveLanded: step.etag } : {}) }, false);
          break;
        }
        case 'compare': {
          // After a refused publish, with DEVELOPMENT unchanged: LIVE may hold this version under an
          // ETag of its own. GetFunction answers each stage's code with its ETag: a stage that moved
          // since it was described means deciding again on the present.
          const [development, live] = await Promise.all([cloudfront.getCode(fn, 'DEVELOPMENT'), cloudfront.getCode(fn, 'LIVE')]);
          if (development?.etag !== step.etag || live?.etag !== step.live) {
            seen = await reread({ refused: step.etag }, false);
            break;
          }
          const same = development.code === live.code && sameSettings(seen.development?.config, seen.live?.config);
          seen = { ...seen, compared: { etag: step.etag, live: step.live, same } };
          break;
        }
        default:
          return unreachable(step);
      }
    }
  } catch (error) {
    if (error instanceof ReconcileError) throw error;
    throw new ReconcileError(label.name, progress(), error);
  }
}

/**
 * A clue made whole: by Id, DescribeConnectionFunction (DEVELOPMENT) answers the Id, name and ARN, and
 * is kept as the DEVELOPMENT read; by name alone, the DEVELOPMENT listing of connection functions says
 * which Id holds it (a name is never turned into an Id by guessing). An "Id" read off an ARN alone may
 * be the name (the ARN's form is unconfirmed, docs/cloudfront-api.md#connection-functions): when the
 * API does not take it as an identifier, the listing entry with that exact ARN is the function.
 * null: no such function now.
 */
export async function resolveConnectionFunction(
  cloudfront: CloudFrontGateway,
  clue: ConnectionFunctionClue,
): Promise<{ fn: FunctionRef; development?: DescribedStage } | null> {
  if (clue.id !== undefined) {
    const probe: FunctionRef = { kind: 'connection', id: clue.id, name: clue.name ?? clue.id, arn: clue.arn };
    const development = await cloudfront.describe(probe, 'DEVELOPMENT');
    if (development === null) {
      const fromArn = clue.name === undefined && clue.arn.endsWith(`/${clue.id}`);
      return fromArn ? listed(cloudfront, (fn) => fn.arn === clue.arn, `with ARN ${clue.arn}`) : null;
    }
    const name = clue.name ?? development.name;
    if (!isFunctionName(name)) {
      throw new CloudFrontAnswerError(`DescribeConnectionFunction ${clue.id} answered no valid Name (${JSON.stringify(String(name).slice(0, 80))})`);
    }
    // The answer's Id: the identifier sent may have been the name, and the other calls take the Id only.
    return { fn: { kind: 'connection', id: development.id ?? clue.id, name, arn: development.arn ?? clue.arn }, development };
  }
  return listed(cloudfront, (fn) => fn.name === clue.name, `named ${clue.name}`);
}

/** The one connection function of the DEVELOPMENT listing that `matches`; null if none. */
async function listed(cloudfront: CloudFrontGateway, matches: (fn: FunctionRef) => boolean, what: string): Promise<{ fn: FunctionRef } | null> {
  const found: FunctionRef[] = [];
  for await (const page of cloudfront.listFunctions('DEVELOPMENT', undefined, 'connection')) {
    for (const fn of page) if (matches(fn)) found.push(fn);
  }
  if (found.length > 1) throw new CloudFrontAnswerError(`ListConnectionFunctions lists ${found.length} connection functions ${what}`);
  const [match] = found;
  return match ? { fn: { kind: 'connection', id: (match as { id: string }).id, name: match.name, arn: match.arn } } : null;
}

/** Two stages' configurations, both read: unknown is never "the same". */
function sameSettings(a: FunctionSettings | undefined, b: FunctionSettings | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.comment === b.comment &&
    a.runtime === b.runtime &&
    a.keyValueStoreAssociations.length === b.keyValueStoreAssociations.length &&
    a.keyValueStoreAssociations.every((arn, i) => b.keyValueStoreAssociations[i] === arn)
  );
}

/** A step kind added to `decide` and forgotten here fails to compile instead of spinning forever. */
function unreachable(step: never): never {
  throw new TypeError(`reconcile: unknown step ${JSON.stringify(step)}`);
}

export function failedOutcome(target: FunctionRef | ConnectionFunctionClue, trigger: string, dryRun: boolean, error: unknown): Outcome {
  const fn = displayOf(target);
  const progress = error instanceof ReconcileError ? error.progress : { publishAttempts: 0 };
  return {
    functionName: fn.name,
    functionArn: fn.arn,
    trigger,
    action: 'failed',
    ...(progress.etag !== undefined ? { etag: progress.etag } : {}),
    dryRun,
    publishAttempts: progress.publishAttempts,
    ...(progress.history !== undefined ? { history: progress.history } : {}),
    error: error instanceof Error ? error.message : String(error),
  };
}
