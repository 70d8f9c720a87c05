/**
 * TestFunction's runner: evaluates the function code in a fresh node:vm context and calls
 * `handler(event)`, inside a short-lived worker thread, against a compute budget.
 *
 * Compute budget (emulator/VARIANTS.md, "TestFunction"): CloudFront reports ComputeUtilization as
 * "the amount of time that the function took to run as a percentage of the maximum allowed time"
 * (docs/cloudfront-api.md#testfunction) and does not publish that maximum. Here the maximum is a
 * wall-clock budget per run (`budgetMs`, default 1000 ms), measured inside the worker from the start
 * of the function code's evaluation to the settling of the handler's result, so worker start-up and
 * message passing do not count. ComputeUtilization = ceil(100 × elapsed / budget), capped at 100. A
 * run that reaches the budget is stopped: FunctionErrorMessage = TIMEOUT_MESSAGE, ComputeUtilization
 * "100", no output (variant `overBudget: 'error'`). Under `overBudget: 'capped-100'` it is not an
 * error: the run may go on to OVERRUN_FACTOR × the budget, and answers "100" with whatever it returned
 * (nothing, when it is stopped there) and no FunctionErrorMessage. A busy loop on `Date.now()` for 80% of the budget reliably reads ≥ 80; a handler
 * that returns at once reads a few percent at most.
 *
 * Why a worker: node:vm's timeout only covers synchronous code. Bounding async code in-process
 * needs `microtaskMode: 'afterEvaluate'`, and interrupting an endless microtask chain that way
 * corrupts Node's async-hook stack and kills the whole process whenever async hooks are on (they
 * are under node:test and with AsyncLocalStorage). Terminating a worker is always safe, so the
 * worker gets a wall-clock budget and is thrown away after each run.
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

// Plain CommonJS evaluated by the worker, so it needs no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const { code, eventJson, budget, limit, timeoutMessage, logLimit } = workerData;
const context = vm.createContext({ __event: eventJson, __logLimit: logLimit }, { name: 'cloudfront-function', codeGeneration: { strings: false, wasm: false } });
vm.runInContext(\`(() => { const logs = []; let size = 0; globalThis.__logs = logs;
  const f = (...a) => {
    const line = a.map((x) => typeof x === 'string' ? x : JSON.stringify(x)).join(' ');
    if (size + line.length > __logLimit) { size = __logLimit; return; }
    size += line.length; logs.push(line);
  };
  globalThis.console = { log: f, info: f, warn: f, error: f, debug: f }; })();\`, context);
let timedOut = false;
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
parentPort.postMessage({ type: 'started' });
const t0 = performance.now();
const left = () => Math.floor(limit - (performance.now() - t0));
const done = (output, errorMessage) => {
  const elapsed = performance.now() - t0;
  parentPort.postMessage({ type: 'done', output, errorMessage, logs: logs(), elapsed, timedOut: timedOut || elapsed >= limit });
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
`;

export function runFunction(code: string, eventJson: string, options: RunOptions = {}): Promise<TestRun> {
  const budget = options.budgetMs ?? DEFAULT_BUDGET_MS;
  if (!Number.isInteger(budget) || budget < 1) throw new RangeError(`budgetMs must be a positive integer, got ${budget}`);
  const capped = options.overBudget === 'capped-100';
  // Where the run is stopped: at the budget, or (capped-100) OVERRUN_FACTOR times it.
  const limit = capped ? budget * OVERRUN_FACTOR : budget;
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { code, eventJson, budget, limit, timeoutMessage: TIMEOUT_MESSAGE, logLimit: LOG_LIMIT_CHARS },
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
      env: {},
    });
    let settled = false;
    const finish = (run: TestRun) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      resolve(run);
    };
    const timedOut = (logs: string[]) => finish({ output: '', errorMessage: capped ? '' : TIMEOUT_MESSAGE, logs, computeUtilization: '100' });
    const broken = (message: string) => finish({ output: '', errorMessage: message, logs: [], computeUtilization: '100' });
    let timer = setTimeout(() => broken('The function runner did not start.'), STARTUP_LIMIT_MS);
    worker.on('message', (message: { type: string; output?: unknown; errorMessage?: unknown; logs?: unknown; elapsed?: unknown; timedOut?: unknown }) => {
      if (message.type === 'started') {
        clearTimeout(timer);
        // Async code (an endless await chain) never yields to vm's timeout: end the worker.
        timer = setTimeout(() => timedOut([]), limit + KILL_SLACK_MS);
      } else if (message.type === 'done') {
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
      }
    });
    worker.on('error', (error) => broken(`The function runner failed: ${error.message}`));
    worker.on('exit', () => broken('The function runner exited without a result.'));
  });
}

/** ceil(100 × elapsed / budget), between 1 and 100. */
export function utilization(elapsedMs: number, budgetMs: number): string {
  return String(Math.min(100, Math.max(1, Math.ceil((100 * elapsedMs) / budgetMs))));
}
