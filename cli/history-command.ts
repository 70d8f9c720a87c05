/**
 * `cf-autopublish history | diff | rollback NAME`: the history bucket from a terminal, with the
 * operator's own credentials (s3:ListBucket and s3:GetObject on the bucket; for rollback also
 * cloudfront:UpdateFunction or UpdateConnectionFunction, docs/operations.md, "History and rollback").
 * Both kinds: a name both kinds have needs --kind (cli/function-target.ts). Rollback writes a saved version back to
 * DEVELOPMENT, then reconciles it like any edit: the gate tests it, LIVE is saved first, and it is
 * published. No pause holds it: it is the operator acting.
 */
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { CloudFrontGateway, DescribedStage } from '../lib/cloudfront-gateway';
import type { FunctionKind, FunctionRef } from '../lib/function-ref';
import { type HistoryRecord, historyPrefix, historyStore, parseHistoryRecord } from '../lib/history';
import { reconcile } from '../lib/reconcile';
import type { Runtime } from '../lib/runtime';
import type { S3Gateway } from '../lib/s3-gateway';
import { unifiedDiff } from './diff';
import { CommandError, type Io, UsageError } from './io';
import { writeDevelopment } from './operator-cloudfront';
import { contractJson } from './json-output';
import { table } from './table';
import { resolveFunction } from './function-target';

export interface HistoryAccess {
  readonly runtime: Runtime;
  readonly s3: S3Gateway;
  readonly bucket: string;
}

interface Target {
  readonly fn: FunctionRef;
  readonly cloudfront: CloudFrontGateway;
  readonly development: DescribedStage;
  readonly live: DescribedStage | null;
  /** Saved keys, newest first (ISO times sort as they happened). */
  readonly keys: readonly string[];
}

async function targetOf(name: string, kind: FunctionKind | undefined, access: HistoryAccess): Promise<Target> {
  const cloudfront = access.runtime.cloudfrontFor(undefined);
  const fn = await resolveFunction(cloudfront, name, kind);
  const [development, live] = await Promise.all([cloudfront.describe(fn, 'DEVELOPMENT'), cloudfront.describe(fn, 'LIVE')]);
  if (!development) throw new CommandError(`no function named ${name}`);
  const keys = (await access.s3.listKeys(access.bucket, historyPrefix(fn)))
    .filter((k) => k.endsWith('.json'))
    .sort()
    .reverse();
  return { fn, cloudfront, development, live, keys };
}

async function readRecord(access: HistoryAccess, key: string): Promise<HistoryRecord> {
  const text = await access.s3.readText(access.bucket, key);
  if (typeof text !== 'string') throw new CommandError(text.unreadable);
  return parseHistoryRecord(text, key);
}

/** A key as listed, or only its file name (`<ISO time>-<ETag>.json`), or a record's ETag. */
function resolveKey(target: Target, wanted: string): string {
  const matches = target.keys.filter((k) => k === wanted || k.endsWith(`/${wanted}`) || k.endsWith(`-${wanted}.json`));
  if (matches.length === 0)
    throw new CommandError(`no saved version of ${target.fn.name} matches "${wanted}" (cf-autopublish history ${target.fn.name} lists them)`);
  if (matches.length > 1) throw new CommandError(`"${wanted}" matches ${matches.length} saved versions of ${target.fn.name}; give the whole key`);
  return matches[0]!;
}

export async function runHistory(name: string, kind: FunctionKind | undefined, access: HistoryAccess, json: boolean | undefined, io: Io): Promise<number> {
  const target = await targetOf(name, kind, access);
  const saved = await Promise.all(target.keys.map(async (key) => ({ key, record: await readRecord(access, key) })));
  const live = target.live?.etag ?? null;
  const development = target.development.etag;
  if (json) {
    const versions = saved.map(({ key, record: { code: _code, ...rest } }) => ({ key, ...rest }));
    io.out(contractJson('history', { functionName: name, liveEtag: live, developmentEtag: development, bucket: access.bucket, versions }));
    return 0;
  }
  io.out(`${name}: LIVE ${live ?? '(never published)'}, DEVELOPMENT ${development}${live === development ? ' (in sync)' : ''}`);
  if (saved.length === 0) {
    io.out(`No saved versions in s3://${access.bucket}/${historyPrefix(target.fn)}`);
    return 0;
  }
  const rows = saved.map(({ key, record }) => [
    record.savedAt,
    record.etag,
    record.replacedBy.actor ?? '-',
    record.replacedBy.etag,
    record.replacedBy.trigger,
    key.slice(key.lastIndexOf('/') + 1),
  ]);
  io.out(table(['SAVED AT', 'ETAG', 'REPLACED BY', 'WITH', 'TRIGGER', 'KEY'], rows));
  io.out(`${saved.length} saved version(s), newest first, in s3://${access.bucket}/${historyPrefix(target.fn)}`);
  return 0;
}

/** One side of a diff: a stage's code now, or a saved version's. */
async function sideOf(target: Target, access: HistoryAccess, which: string): Promise<{ label: string; code: string }> {
  if (which === 'LIVE' || which === 'DEVELOPMENT') {
    const code = await target.cloudfront.getCode(target.fn, which);
    if (!code) throw new CommandError(`${target.fn.name} has no ${which} stage${which === 'LIVE' ? ' (never published)' : ''}`);
    return { label: `${target.fn.name} ${which} (${code.etag})`, code: Buffer.from(code.code, 'base64').toString('utf8') };
  }
  const key = resolveKey(target, which);
  const record = await readRecord(access, key);
  return { label: `${target.fn.name} saved ${record.savedAt} (${record.etag})`, code: Buffer.from(record.code, 'base64').toString('utf8') };
}

/** `diff NAME [FROM [TO]]`: each LIVE, DEVELOPMENT or a saved key; by default LIVE to DEVELOPMENT. */
export async function runDiff(name: string, kind: FunctionKind | undefined, sides: readonly string[], access: HistoryAccess, io: Io): Promise<number> {
  if (sides.length > 2) throw new UsageError('diff takes a function name and at most two versions (LIVE, DEVELOPMENT or a saved key)');
  const target = await targetOf(name, kind, access);
  const [from, to] = [sides[0] ?? 'LIVE', sides[1] ?? 'DEVELOPMENT'];
  const [a, b] = await Promise.all([sideOf(target, access, from), sideOf(target, access, to)]);
  const diff = unifiedDiff(a.code, b.code, a.label, b.label);
  io.out(diff === '' ? `${a.label} and ${b.label}: no differences` : diff);
  return 0;
}

export interface RollbackOptions {
  readonly kind?: FunctionKind | undefined;
  readonly to?: string | undefined;
  readonly steps?: string | undefined;
  readonly yes?: boolean | undefined;
  /** The operator's CloudFront client (their credentials), for the one UpdateFunction or UpdateConnectionFunction. */
  readonly operatorClient: CloudFrontClient;
}

/**
 * Restores a saved version: UpdateFunction with IfMatch (DEVELOPMENT as just read), then the same
 * reconcile as every edit, with the gate forced on and the history of what it replaces saved first.
 * Without --yes it only says what it would do.
 */
export async function runRollback(name: string, options: RollbackOptions, access: HistoryAccess, io: Io): Promise<number> {
  if (options.to !== undefined && options.steps !== undefined) throw new UsageError('rollback takes --to KEY or --steps N, not both');
  const steps = options.steps === undefined ? 1 : Number(options.steps);
  if (!Number.isInteger(steps) || steps < 1 || !/^\d+$/.test(options.steps ?? '1'))
    throw new UsageError(`--steps: "${options.steps}" is not a whole number of 1 or more`);
  const { runtime } = access;
  const target = await targetOf(name, options.kind, access);
  const tags = await target.cloudfront.readTags(target.fn.arn);
  if (tags === 'gone') throw new CommandError(`no function named ${name}`);
  // The reconciler never publishes a function that is not opted in; neither does its rollback.
  if (!runtime.policy.optedIn(tags))
    throw new CommandError(`${name} is not opted in (tag ${runtime.config.tagKey}=${runtime.config.tagValue}): nothing to roll back`);
  if (target.keys.length === 0) throw new CommandError(`no saved versions of ${name} in s3://${access.bucket}/${historyPrefix(target.fn)}`);
  let key: string;
  if (options.to !== undefined) key = resolveKey(target, options.to);
  else {
    if (steps > target.keys.length) throw new CommandError(`--steps ${steps}: ${name} has only ${target.keys.length} saved version(s)`);
    key = target.keys[steps - 1]!;
  }
  const record = await readRecord(access, key);
  if (record.functionName !== name) throw new CommandError(`${key} holds ${record.functionName}, not ${name}`);
  const id = target.fn.kind === 'connection' ? target.fn.id : undefined;
  if (record.functionId !== id)
    throw new CommandError(
      `${key} holds ${record.functionId ? `connection function ${record.functionId}` : 'a CloudFront function'}, not ${id ? `connection function ${id}` : 'a CloudFront function'}`,
    );
  const plan = `${name}: LIVE ${target.live?.etag ?? '(never published)'} → the version saved ${record.savedAt} (was ETag ${record.etag}, replaced by ${record.replacedBy.etag}${record.replacedBy.actor ? ` after an edit by ${record.replacedBy.actor}` : ''})`;
  if (!options.yes) {
    io.out(`Would roll back ${plan}.\nNothing changed: run again with --yes to write it to DEVELOPMENT, test it and publish it.`);
    return 0;
  }
  const written = await writeDevelopment(options.operatorClient, target.fn, target.development.etag, Buffer.from(record.code, 'base64'), record.config);
  if (written === 'precondition-failed') {
    throw new CommandError(`${name}: DEVELOPMENT changed since it was read (${target.development.etag}); nothing written. Run rollback again.`);
  }
  const update = target.fn.kind === 'connection' ? 'UpdateConnectionFunction' : 'UpdateFunction';
  io.out(`Wrote the saved code and config to DEVELOPMENT of ${name}: ETag ${written.etag} (${update}, IfMatch ${target.development.etag}).`);
  const gate = runtime.publishGate(target.cloudfront, {}, { force: true });
  const outcome = await reconcile(target.fn, 'rollback', {
    cloudfront: target.cloudfront,
    policy: { ...runtime.policy, dryRun: false, gate: true, history: true },
    eagerDevelopment: true,
    history: historyStore(access.s3, access.bucket),
    ...(gate ? { gate } : {}),
  });
  switch (outcome.action) {
    case 'published':
      io.out(`Tested and published ${name} ${outcome.etag}: rolled back ${plan}.`);
      if (outcome.history) io.out(`The version it replaced is saved as s3://${access.bucket}/${outcome.history}.`);
      if (outcome.etag !== written.etag) io.out(`Note: DEVELOPMENT changed again after the rollback's write; ${outcome.etag} is what went live.`);
      return 0;
    case 'blocked':
      io.out(
        `The gate blocked ${name} ${outcome.etag}: ${outcome.blocked?.reason ?? 'no reason given'} (test case ${outcome.blocked?.testCase ?? '-'}). DEVELOPMENT holds the rolled-back code; LIVE is unchanged.`,
      );
      return 1;
    default:
      io.out(`${name}: ${outcome.action}${outcome.etag ? ` (${outcome.etag})` : ''}. DEVELOPMENT holds the rolled-back code ${written.etag}.`);
      return outcome.action === 'already-published' || outcome.action === 'skipped-in-sync' ? 0 : 1;
  }
}
