/**
 * `cf-autopublish wait NAME [--timeout S]`: for a CI job that has just updated a function and wants
 * to know it went live, e.g. `aws cloudfront update-function … && cf-autopublish wait my-fn`.
 *
 * It only reads and tests: DescribeFunction, ListTagsForResource and, once per DEVELOPMENT ETag, the
 * publish gate's TestFunction, with the operator's credentials. The reconciler does the publishing;
 * a version the gate would block will never go live, so waiting for it ends at once with exit 3 rather
 * than at the timeout (docs/cli-contract.md).
 */
import { type FunctionKind, isFunctionName } from '../lib/function-ref';
import type { Runtime } from '../lib/runtime';
import { EXIT } from './exit-codes';
import { CommandError, type Io, UsageError } from './io';
import { contractJson } from './json-output';
import { resolveFunction } from './function-target';

export interface WaitOptions {
  readonly kind?: FunctionKind | undefined;
  readonly timeout?: string | undefined;
  readonly json?: boolean | undefined;
  /** Between two looks; default 1 s. */
  readonly pollMs?: number;
}

const DEFAULT_TIMEOUT_SECONDS = 300;

export async function runWait(name: string, runtime: Runtime, options: WaitOptions, io: Io): Promise<number> {
  if (!isFunctionName(name)) throw new UsageError(`"${name}" is not a valid CloudFront function name`);
  const raw = options.timeout ?? String(DEFAULT_TIMEOUT_SECONDS);
  if (!/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 86_400)
    throw new UsageError(`--timeout: "${raw}" is not a whole number of seconds from 1 to 86400`);
  const timeoutMs = Number(raw) * 1000;
  const pollMs = options.pollMs ?? 1000;
  const { policy, config } = runtime;
  // What the reconciler would refuse, wait refuses at once: no amount of waiting publishes it.
  if (!policy.nameAllowed(name)) throw new CommandError(`${name} is not in the deployment's allowed names: the reconciler will never publish it`);
  const cloudfront = runtime.cloudfrontFor(undefined);
  const started = Date.now();
  // Which function the name is, once: a connection function keeps its Id for good.
  const fn = await resolveFunction(cloudfront, name, options.kind);
  // The DEVELOPMENT ETag the gate passed: tested once, however long LIVE takes to follow.
  let passed: string | undefined;
  const done = (action: string, body: Record<string, unknown>) => {
    if (options.json) io.out(contractJson('wait', { functionName: name, action, waitedSeconds: Math.round((Date.now() - started) / 100) / 10, ...body }));
  };
  for (;;) {
    const development = await cloudfront.describe(fn, 'DEVELOPMENT');
    if (!development) throw new CommandError(`no function named ${name}`);
    const tags = await cloudfront.readTags(fn.arn);
    if (tags === 'gone') throw new CommandError(`no function named ${name}`);
    if (!policy.optedIn(tags)) {
      throw new CommandError(`${name} is not opted in (tag ${config.tagKey}=${config.tagValue}): nothing will publish it, so there is nothing to wait for`);
    }
    const live = await cloudfront.describe(fn, 'LIVE');
    const etags = { etag: development.etag, developmentEtag: development.etag, liveEtag: live?.etag ?? null };
    if (live?.etag === development.etag) {
      done('in-sync', etags);
      if (!options.json) io.out(`${name} is live: LIVE = DEVELOPMENT = ${development.etag}.`);
      return EXIT.ok;
    }
    if (passed !== development.etag) {
      const gate = runtime.publishGate(cloudfront, {}, { force: true });
      const verdict = await gate!.test(fn, development.etag, tags);
      if (verdict === 'gone') throw new CommandError(`no function named ${name}`);
      // DEVELOPMENT moved while it was tested: look again, at the new ETag.
      if (verdict === 'precondition-failed') continue;
      if (!verdict.passed) {
        const blocked = { reason: verdict.reason, testCase: verdict.testCase, computeUtilization: verdict.computeUtilization ?? null };
        done('blocked', { ...etags, blocked });
        if (!options.json) io.out(`${name} DEVELOPMENT ${development.etag} would be blocked by the publish gate, so it will not go live: ${verdict.reason}`);
        return EXIT.blocked;
      }
      passed = development.etag;
    }
    const left = timeoutMs - (Date.now() - started);
    if (left <= 0) {
      done('timed-out', etags);
      throw new CommandError(
        `timed out after ${raw} s: ${name} LIVE ${live?.etag ?? '(never published)'} is not DEVELOPMENT ${development.etag} (is the reconciler deployed, and not paused?)`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
  }
}
