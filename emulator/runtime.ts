/**
 * TestFunction's runner: evaluates the function code in a fresh node:vm context and calls
 * `handler(event)`, inside a worker thread that is reused from run to run, against a compute budget.
 *
 * Compute budget (emulator/VARIANTS.md, "TestFunction"): CloudFront reports ComputeUtilization as
 * "the amount of time that the function took to run as a percentage of the maximum allowed time"
 * (docs/cloudfront-api.md#testfunction) and does not publish that maximum. Here the maximum is a
 * wall-clock budget per run (`budgetMs`, default 1000 ms), measured inside the worker from the start
 * of the function code's evaluation to the settling of the handler's result, so worker start-up, the
 * wait for a free worker and message passing do not count. ComputeUtilization = ceil(100 × elapsed /
 * budget), capped at 100. A run that reaches the budget is stopped: FunctionErrorMessage =
 * TIMEOUT_MESSAGE, ComputeUtilization "100", no output (variant `overBudget: 'error'`). Under
 * `overBudget: 'capped-100'` it is not an error: the run may go on to OVERRUN_FACTOR × the budget, and
 * answers "100" with whatever it returned (nothing, when it is stopped there) and no
 * FunctionErrorMessage. A busy loop on `Date.now()` for 80% of the budget reliably reads ≥ 80; a
 * handler that returns at once reads a few percent at most.
 *
 * Why a worker: node:vm's timeout only covers synchronous code. Bounding async code in-process
 * needs `microtaskMode: 'afterEvaluate'`, and interrupting an endless microtask chain that way
 * corrupts Node's async-hook stack and kills the whole process whenever async hooks are on (they
 * are under node:test and with AsyncLocalStorage). Terminating a worker is always safe.
 *
 * Why reused: a thread per run cost tens of milliseconds of CPU each (a Node isolate's start-up),
 * the emulator's largest cost in the organisation bench. A worker runs one run at a time; each run
 * gets a new vm context, so nothing a run leaves in its globals (or on their prototypes) reaches the
 * next. A worker goes back to the pool only once its event loop turns after the result (its `idle`
 * message): a run that answered but left an endless microtask chain behind never turns it and is
 * terminated IDLE_LIMIT_MS later; a run stopped by the parent's timer (an endless await chain, a
 * promise that never settles) terminates its worker at once. Up to MAX_THREADS workers run at once;
 * more runs wait for one (the wait is not budget). Idle workers are unref'd: they keep no process
 * alive.
 *
 * This is not CloudFront's JavaScript runtime (no `cloudfront` module, no KeyValueStore, no
 * cloudfront-js-1.0 restrictions) and node:vm is not a security boundary; it only runs code the
 * tester itself uploaded.
 */
import { Worker } from 'node:worker_threads';

export interface TestRun {
  /** JSON of the handler's (awaited) return value; empty when it failed. */
  output: string;
  /** Empty when the handler succeeded. */
  errorMessage: string;
  /** console.* lines, in order; at most LOG_LIMIT_CHARS characters in all (CloudFront truncates function logs at 10 KB); a line that would pass the limit is dropped, with all after it. */
  logs: string[];
  /** Percentage of the compute budget used, as CloudFront reports it: a string, "1"–"100". */
  computeUtilization: string;
}

export interface RunOptions {
  /** Compute budget of one run (see the header comment). Default DEFAULT_BUDGET_MS. */
  budgetMs?: number;
  /** What a run over its budget answers (emulator/VARIANTS.md); default 'error'. */
  overBudget?: 'error' | 'capped-100';
}

export const DEFAULT_BUDGET_MS = 1000;
/** Not a confirmed CloudFront wording: none was found in public sources. */
export const TIMEOUT_MESSAGE = 'The function exceeded the maximum compute time.';
export const LOG_LIMIT_CHARS = 10 * 1024;
const STARTUP_LIMIT_MS = 10_000;
/** Slack over the budget before the parent kills the worker, so sync overruns report through vm first. */
const KILL_SLACK_MS = 50;
/** Under `overBudget: 'capped-100'`, how far past its budget a run may go before it is stopped. */
export const OVERRUN_FACTOR = 2;
/** How long after its result a worker may take to turn its event loop before it is deemed stuck. */
const IDLE_LIMIT_MS = 200;
/** Workers running at once; more runs wait for one. */
const MAX_THREADS = 4;

// Plain CommonJS evaluated by the worker, so it needs no TypeScript loader. One message per run.
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const vm = require('node:vm');
const PRELUDE = \`(() => { const logs = []; let size = 0; globalThis.__logs = logs;
  const f = (...a) => {
    const line = a.map((x) => typeof x === 'string' ? x : JSON.stringify(x)).join(' ');
    if (size + line.length > __logLimit) { size = __logLimit; return; }
    size += line.length; logs.push(line);
  };
  globalThis.console = { log: f, info: f, warn: f, error: f, debug: f }; })();\`;
const prelude = new vm.Script(PRELUDE, { filename: 'prelude.js' });
parentPort.on('message', ({ id, code, eventJson, limit, timeoutMessage, logLimit }) => {
  const context = vm.createContext({ __event: eventJson, __logLimit: logLimit }, { name: 'cloudfront-function', codeGeneration: { strings: false, wasm: false } });
  prelude.runInContext(context);
  let timedOut = false;
  let finished = false;
  const logs = () => {
    try {
      const json = vm.runInContext('JSON.stringify(__logs.map((l) => String(l)))', context, { timeout: 1000 });
      return typeof json === 'string' ? JSON.parse(json) : [];
    } catch { return []; }
  };
  const describe = (e, compiling) => {
    if (e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') { timedOut = true; return timeoutMessage; }
    const message = String(e && e.message !== undefined ? e.message : e);
    return compiling && e && e.name === 'SyntaxError' ? 'SyntaxError: ' + message : message;
  };
  parentPort.postMessage({ type: 'started', id });
  const t0 = performance.now();
  const left = () => Math.floor(limit - (performance.now() - t0));
  const done = (output, errorMessage) => {
    if (finished) return;
    finished = true;
    const elapsed = performance.now() - t0;
    parentPort.postMessage({ type: 'done', id, output, errorMessage, logs: logs(), elapsed, timedOut: timedOut || elapsed >= limit });
    // Reached only when nothing the run left behind keeps the microtask queue busy.
    setImmediate(() => parentPort.postMessage({ type: 'idle', id }));
  };
  let compiling = true;
  try {
    vm.runInContext(code, context, { timeout: Math.max(1, left()), filename: 'function.js' });
    compiling = false;
    if (left() <= 0) throw Object.assign(new Error('timeout'), { code: 'ERR_SCRIPT_EXECUTION_TIMEOUT' });
    const pending = vm.runInContext(\`if (typeof handler !== 'function') throw new Error('The function code does not define a handler function.');
      Promise.resolve(handler(JSON.parse(__event))).then((v) => JSON.stringify(v === undefined ? null : v))\`, context, { timeout: Math.max(1, left()) });
    pending.then((out) => done(String(out), ''), (e) => done('', describe(e, false)));
  } catch (e) {
    done('', describe(e, compiling));
  }
});
`;

type FromRunner =
  | { type: 'started'; id: number }
  | { type: 'done'; id: number; output?: unknown; errorMessage?: unknown; logs?: unknown; elapsed?: unknown; timedOut?: unknown }
  | { type: 'idle'; id: number };

/** The pool: idle workers, the runs waiting for one, and how many workers exist. */
const idle: Worker[] = [];
const waiting: ((worker: Worker) => void)[] = [];
let live = 0;
let started = 0;
let retired = 0;
let nextRunId = 0;

/** Worker threads started since the process began (tests see reuse through it). */
export function runnerThreadsStarted(): number {
  return started;
}

/** Worker threads ended as stuck or broken since the process began (tests see a stuck one go through it). */
export function runnerThreadsRetired(): number {
  return retired;
}

function spawn(): Worker {
  live++;
  started++;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
    stdout: true,
    stderr: true,
    env: {},
  });
  // An idle worker that dies (it should not) leaves the pool; a busy one's run sees 'exit' itself.
  worker.on('exit', () => {
    const at = idle.indexOf(worker);
    if (at >= 0) idle.splice(at, 1);
  });
  worker.on('error', () => {});
  return worker;
}

function acquire(): Promise<Worker> {
  const worker = idle.pop() ?? (live < MAX_THREADS ? spawn() : undefined);
  if (worker) {
    worker.ref();
    return Promise.resolve(worker);
  }
  return new Promise((resolve) => waiting.push(resolve));
}

/** A healthy worker goes to the next waiting run or the idle pool; a stuck or broken one is ended. */
function release(worker: Worker, healthy: boolean): void {
  if (!healthy) {
    live--;
    retired++;
    void worker.terminate();
  }
  const next = waiting.shift();
  if (next) {
    const handed = healthy ? worker : spawn();
    handed.ref();
    next(handed);
    return;
  }
  if (healthy) {
    worker.unref();
    idle.push(worker);
  }
}

export function runFunction(code: string, eventJson: string, options: RunOptions = {}): Promise<TestRun> {
  const budget = options.budgetMs ?? DEFAULT_BUDGET_MS;
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`budgetMs must be a positive integer, got ${budget}`);
  const capped = options.overBudget === 'capped-100';
  // Where the run is stopped: at the budget, or (capped-100) OVERRUN_FACTOR times it.
  const limit = capped ? budget * OVERRUN_FACTOR : budget;
  return acquire().then(
    (worker) =>
      new Promise<TestRun>((resolve) => {
        const id = nextRunId++;
        let settled = false;
        let released = false;
        const free = (healthy: boolean) => {
          if (released) return;
          released = true;
          clearTimeout(timer);
          worker.off('message', onMessage);
          worker.off('exit', onExit);
          worker.off('error', onError);
          release(worker, healthy);
        };
        const finish = (run: TestRun) => {
          if (settled) return;
          settled = true;
          resolve(run);
        };
        const timedOut = (logs: string[]) => finish({ output: '', errorMessage: capped ? '' : TIMEOUT_MESSAGE, logs, computeUtilization: '100' });
        const broken = (message: string) => {
          finish({ output: '', errorMessage: message, logs: [], computeUtilization: '100' });
          free(false);
        };
        let timer = setTimeout(() => broken('The function runner did not start.'), STARTUP_LIMIT_MS);
        const onMessage = (message: FromRunner) => {
          if (message.id !== id) return;
          if (message.type === 'started') {
            clearTimeout(timer);
            // Async code (an endless await chain) never yields to vm's timeout: end the worker.
            timer = setTimeout(() => {
              timedOut([]);
              free(false);
            }, limit + KILL_SLACK_MS);
          } else if (message.type === 'done') {
            clearTimeout(timer);
            // The answer is known; the worker is reused only once its event loop turns.
            timer = setTimeout(() => free(false), IDLE_LIMIT_MS);
            const logs = Array.isArray(message.logs) ? message.logs.filter((l): l is string => typeof l === 'string') : [];
            if (message.timedOut === true) {
              timedOut(logs);
              return;
            }
            const elapsed = typeof message.elapsed === 'number' ? message.elapsed : limit;
            finish({
              output: String(message.output ?? ''),
              errorMessage: String(message.errorMessage ?? ''),
              logs,
              computeUtilization: utilization(elapsed, budget),
            });
          } else if (message.type === 'idle') {
            free(settled);
          }
        };
        const onError = (error: Error) => broken(`The function runner failed: ${error.message}`);
        const onExit = () => broken('The function runner exited without a result.');
        worker.on('message', onMessage);
        worker.on('error', onError);
        worker.on('exit', onExit);
        worker.postMessage({ id, code, eventJson, limit, timeoutMessage: TIMEOUT_MESSAGE, logLimit: LOG_LIMIT_CHARS });
      }),
  );
}

/** ceil(100 × elapsed / budget), between 1 and 100. */
export function utilization(elapsedMs: number, budgetMs: number): string {
  return String(Math.min(100, Math.max(1, Math.ceil((100 * elapsedMs) / budgetMs))));
}
