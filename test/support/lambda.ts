import type { Context } from 'aws-lambda';
import { lambdaContext as localContext } from '../../emulator/lambda-context';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import { logger, metrics } from '../../lib/report';
import { ACCOUNT } from './fake-cloudfront';

/** A Lambda context in our test account, with `remainingMs` left. */
export function lambdaContext(remainingMs = 30_000, account = ACCOUNT): Context {
  return localContext('cloudfront-autopublish-test', account, remainingMs);
}

/**
 * Captures what the reconciler's Powertools logger and metrics print while `fn` runs. It swaps their
 * Console, not process.stdout: the test runner itself reports through stdout.
 */
export async function captureStdout<T>(fn: () => Promise<T>): Promise<{ result?: T; error?: unknown; lines: Record<string, unknown>[] }> {
  let buffer = '';
  const sink = new Writable({
    write(chunk, _encoding, done) {
      buffer += String(chunk);
      done();
    },
  });
  const targets = [logger, metrics] as unknown as { console: Console }[];
  const originals = targets.map((t) => t.console);
  for (const t of targets) t.console = new Console({ stdout: sink, stderr: sink });
  try {
    const result = await fn();
    return { result, lines: parseLines(buffer) };
  } catch (error) {
    return { error, lines: parseLines(buffer) };
  } finally {
    targets.forEach((t, i) => (t.console = originals[i] as Console));
  }
}

function parseLines(buffer: string): Record<string, unknown>[] {
  return buffer
    .split('\n')
    .filter((l) => l.trim().startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
