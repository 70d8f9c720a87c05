/**
 * One sweep worker container of organisation mode, in its own process: its own runtime (so its own
 * member list cache and its own credential cache, as a Lambda container has), the real sweepAccount
 * handler (middy, Powertools, partial batch failures). The parent bundles this file with esbuild and
 * forks it with plain `node`; the emulator and the queue stay in the parent.
 *
 * What to build comes as JSON in argv[2] (an OrgWorkerJob). Over IPC, the parent sends
 *   { type: 'invoke', id, event }   an SQS batch event, as the event source hands one to a container
 *   { type: 'stop' }                the end: answer the stats and exit
 * and the child answers
 *   { type: 'ready' }                                     once the handler is built (before any call)
 *   { type: 'result', id, response?, error?, … }          the handler's answer ({ batchItemFailures }) or its throw
 *   { type: 'stats', maxRssBytes, invocations, cpuMs }    peak RSS of this process's whole life, CPU time (process.cpuUsage, user + system) since ready
 * The handler's log lines go to stdout (the parent discards them).
 */
import type { SQSEvent } from 'aws-lambda';
import { createSweepWorkerRuntime, makeSweepAccount } from '../handlers/sweep-account';
import { loadConfig } from '../lib/config';
import { lambdaContext } from '../local/lambda-context';

export interface OrgWorkerJob {
  /** The worker's settings, as its Lambda environment would hold them (ORGANIZATION_MODE, endpoints…). */
  readonly settings: Readonly<Record<string, string>>;
  /** The central reconciler role's own credentials (a Lambda's execution role). */
  readonly credentials: { accessKeyId: string; secretAccessKey: string };
  /** The account the worker runs in (its Lambda context). */
  readonly account: string;
}

export type ToWorker = { type: 'invoke'; id: number; event: SQSEvent } | { type: 'stop' };

export type FromWorker =
  | { type: 'ready' }
  | {
      type: 'result';
      id: number;
      response?: unknown;
      error?: string;
      /** Accounts swept in this invocation (onAccountSwept), their failed outcomes and publishes. */
      swept: number;
      /** CPU time (user + system) of this invocation: the process runs one at a time. */
      cpuMs?: number;
      failedOutcomes: number;
      published: number;
    }
  | {
      type: 'stats';
      /** Peak RSS of the whole process (start-up included), bytes. */
      maxRssBytes: number;
      invocations: number;
      /** CPU time (user + system) since it answered ready: the invocations' share, start-up excluded. */
      cpuMs: number;
    }
  | { type: 'fatal'; error: string };

const send = (message: FromWorker) => process.send?.(message);

function main(): void {
  const job = JSON.parse(process.argv[2] ?? '') as OrgWorkerJob;
  const runtime = createSweepWorkerRuntime(loadConfig(job.settings), { credentials: job.credentials });
  let swept = 0;
  let failedOutcomes = 0;
  let published = 0;
  let invocations = 0;
  const handler = makeSweepAccount(runtime, {
    onAccountSwept: (_account, summary) => {
      swept++;
      failedOutcomes += summary.failed.length;
      published += summary.counts.published ?? 0;
    },
  });
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') {
      const cpu = process.cpuUsage(cpuAtReady);
      send({ type: 'stats', maxRssBytes: process.resourceUsage().maxRSS * 1024, invocations, cpuMs: (cpu.user + cpu.system) / 1000 });
      process.disconnect();
      return;
    }
    invocations++;
    swept = 0;
    failedOutcomes = 0;
    published = 0;
    const cpuAtStart = process.cpuUsage();
    const cpuMs = () => {
      const used = process.cpuUsage(cpuAtStart);
      return (used.user + used.system) / 1000;
    };
    handler(message.event, lambdaContext('sweepAccount', job.account, 600_000)).then(
      (response) => send({ type: 'result', id: message.id, response, swept, failedOutcomes, published, cpuMs: cpuMs() }),
      (error: unknown) =>
        send({
          type: 'result',
          id: message.id,
          error: error instanceof Error ? error.message : String(error),
          swept,
          failedOutcomes,
          published,
          cpuMs: cpuMs(),
        }),
    );
  });
  const cpuAtReady = process.cpuUsage();
  send({ type: 'ready' });
}

try {
  main();
} catch (error) {
  send({ type: 'fatal', error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exitCode = 1;
}
