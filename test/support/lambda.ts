/**
 * Runs the real handlers in tests: a runtime built from settings (never from process.env), a Lambda
 * context, and the log lines and EMF blobs the invocation wrote, read through Powertools' supported
 * hook: with POWERTOOLS_DEV set (test/run.mjs sets it for every test process), Logger and Metrics
 * write to the global console, which a test may watch.
 */
import { mock } from 'node:test';
import type { Context } from 'aws-lambda';
import { lambdaContext as localContext } from '../../local/lambda-context';
import { loadConfig } from '../../lib/config';
import { createRuntime, type Runtime, type RuntimeClients } from '../../lib/runtime';
import { makeOnFunctionChange } from '../../handlers/on-function-change';
import { makeDriftSweep } from '../../handlers/drift-sweep';
import { ACCOUNT } from './fake-cloudfront';

/** Settings as a Lambda's environment would hold them (DRY_RUN, AUTO_PUBLISH_TAG_KEY…). */
export type Settings = Readonly<Record<string, string>>;

/** Credentials for clients whose calls never leave the process (aws-sdk-client-mock) or go to the emulator. */
export const TEST_CREDENTIALS = { accessKeyId: 'AKIDTEST', secretAccessKey: 'test' } as const;

/** One SDK attempt per call, so a fault reaches the reconciler instead of a retry. */
export function testRuntime(settings: Settings = {}, clients: RuntimeClients = {}): Runtime {
  return createRuntime(loadConfig({ CLOUDFRONT_MAX_ATTEMPTS: '1', ...settings }), { credentials: TEST_CREDENTIALS, ...clients });
}

export const eventHandlerWith = (settings: Settings = {}, clients: RuntimeClients = {}) => makeOnFunctionChange(testRuntime(settings, clients));
export const sweepHandlerWith = (settings: Settings = {}, clients: RuntimeClients = {}) => makeDriftSweep(testRuntime(settings, clients));

/** A Lambda context in our test account, with `remainingMs` left. */
export function lambdaContext(remainingMs = 30_000, account = ACCOUNT): Context {
  return localContext('cloudfront-autopublish-test', account, remainingMs);
}

const CONSOLE_METHODS = ['log', 'info', 'warn', 'error', 'debug'] as const;

/** Runs `fn` and returns what it resolved or threw, with every JSON line Powertools wrote meanwhile. */
export async function captureLogs<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; lines: Record<string, unknown>[] }> {
  if (!process.env.POWERTOOLS_DEV) throw new Error('run the tests through test/run.mjs: it sets POWERTOOLS_DEV so Powertools writes to the console');
  const lines: Record<string, unknown>[] = [];
  const mocks = CONSOLE_METHODS.map((method) =>
    mock.method(console, method, (...args: unknown[]) => {
      for (const arg of args) if (typeof arg === 'string' && arg.trim().startsWith('{')) lines.push(JSON.parse(arg) as Record<string, unknown>);
    }),
  );
  try {
    return { result: await fn(), lines };
  } catch (error) {
    return { error, lines };
  } finally {
    for (const m of mocks) m.mock.restore();
  }
}
