/**
 * TestFunction's runner: evaluates the function code in a fresh node:vm context and calls
 * `handler(event)`, inside a short-lived worker thread.
 *
 * Why a worker: node:vm's timeout only covers synchronous code. Bounding async code in-process
 * needs `microtaskMode: 'afterEvaluate'`, and interrupting an endless microtask chain that way
 * corrupts Node's async-hook stack and kills the whole process whenever async hooks are on (they
 * are under node:test and with AsyncLocalStorage). Terminating a worker is always safe, so the
 * worker gets a wall-clock budget and is thrown away after each run.
 *
 * This is not CloudFront's JavaScript runtime (no `cloudfront` module, no KeyValueStore, no
 * cloudfront-js-1.0 restrictions, no real compute budget) and node:vm is not a security boundary;
 * it only runs code the tester itself uploaded.
 */
import { Worker } from 'node:worker_threads';

export interface TestRun {
  /** JSON of the handler's (awaited) return value; empty when it failed. */
  output: string;
  /** Empty when the handler succeeded. */
  errorMessage: string;
  logs: string[];
  /** Percentage of the time budget used, as CloudFront reports it (a string, 1–100). */
  computeUtilization: string;
}

export interface RunOptions {
  /** Budget for the function itself, worker start-up excluded. Default 1000 ms. */
  timeoutMs?: number;
}

const TIMEOUT_MESSAGE = 'The function exceeded the maximum allowed execution time.';
const STARTUP_LIMIT_MS = 10_000;

// Plain CommonJS evaluated by the worker, so it needs no TypeScript loader.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const vm = require('node:vm');
const { code, eventJson, timeout } = workerData;
const context = vm.createContext({ __event: eventJson }, { name: 'cloudfront-function', codeGeneration: { strings: false, wasm: false } });
const logs = () => {
  try {
    const json = vm.runInContext('JSON.stringify(__logs.slice(0, 100).map((l) => String(l).slice(0, 1024)))', context, { timeout });
    return typeof json === 'string' ? JSON.parse(json) : [];
  } catch { return []; }
};
const done = (output, errorMessage) => parentPort.postMessage({ type: 'done', output, errorMessage, logs: logs() });
const describe = (e) => e && e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT' ? ${JSON.stringify(TIMEOUT_MESSAGE)} : String(e && e.message !== undefined ? e.message : e);
parentPort.postMessage({ type: 'started' });
try {
  vm.runInContext(\`(() => { const logs = []; globalThis.__logs = logs;
    const f = (...a) => { logs.push(a.map((x) => typeof x === 'string' ? x : JSON.stringify(x)).join(' ')); };
    globalThis.console = { log: f, info: f, warn: f, error: f, debug: f }; })();\`, context, { timeout });
  vm.runInContext(code, context, { timeout, filename: 'function.js' });
  const pending = vm.runInContext(\`if (typeof handler !== 'function') throw new Error('The function code does not define a handler function.');
    Promise.resolve(handler(JSON.parse(__event))).then((v) => JSON.stringify(v === undefined ? null : v))\`, context, { timeout });
  pending.then((out) => done(String(out), ''), (e) => done('', describe(e)));
} catch (e) {
  done('', describe(e));
}
`;

export function runFunction(code: string, eventJson: string, options: RunOptions = {}): Promise<TestRun> {
  const timeout = options.timeoutMs ?? 1000;
  return new Promise((resolve) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { code, eventJson, timeout },
      resourceLimits: { maxOldGenerationSizeMb: 64, maxYoungGenerationSizeMb: 16 },
      stdout: true,
      stderr: true,
      env: {},
    });
    let started = 0;
    let settled = false;
    const finish = (output: string, errorMessage: string, logs: string[]) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void worker.terminate();
      const used = started ? Math.ceil(((performance.now() - started) / timeout) * 100) : 100;
      resolve({ output, errorMessage, logs, computeUtilization: String(Math.min(100, Math.max(1, used))) });
    };
    let timer = setTimeout(() => finish('', 'The function runner did not start.', []), STARTUP_LIMIT_MS);
    worker.on('message', (message: { type: string; output?: unknown; errorMessage?: unknown; logs?: unknown }) => {
      if (message.type === 'started') {
        started = performance.now();
        clearTimeout(timer);
        // A little slack over the in-context timeout so sync overruns report through vm first.
        timer = setTimeout(() => finish('', TIMEOUT_MESSAGE, []), timeout + 50);
      } else if (message.type === 'done') {
        const logs = Array.isArray(message.logs) ? message.logs.filter((l): l is string => typeof l === 'string') : [];
        finish(String(message.output ?? ''), String(message.errorMessage ?? ''), logs);
      }
    });
    worker.on('error', (error) => finish('', `The function runner failed: ${error.message}`, []));
    worker.on('exit', () => finish('', 'The function runner exited without a result.', []));
  });
}
