/**
 * TestFunction's runner: evaluates the function code in a fresh node:vm context and calls
 * `handler(event)`.
 *
 * This is not CloudFront's JavaScript runtime (no `cloudfront` module, no KeyValueStore, no
 * cloudfront-js-1.0 restrictions, no real compute budget) and node:vm is not a security boundary:
 * it only runs code the tester itself uploaded. What it does guarantee is that a runaway function
 * cannot hang the emulator: the synchronous part and the microtask queue both run under `timeout`,
 * and the context has no timers or I/O that could keep work alive afterwards.
 */
import vm from 'node:vm';

export interface TestRun {
  /** JSON of the handler's (awaited) return value; empty when it failed. */
  output: string;
  /** Empty when the handler succeeded. */
  errorMessage: string;
  logs: string[];
  /** Percentage of the time budget used, as CloudFront reports it (a string, 0–100). */
  computeUtilization: string;
}

export interface RunOptions {
  timeoutMs?: number;
}

export function runFunction(code: string, eventJson: string, options: RunOptions = {}): TestRun {
  const timeout = options.timeoutMs ?? 1000;
  const logs: string[] = [];
  const sandbox: Record<string, unknown> = {
    // Strings only cross the boundary, so nothing from the host realm leaks in as a live object.
    __log: (line: string) => {
      if (logs.length < 100) logs.push(String(line).slice(0, 1024));
    },
    __event: eventJson,
  };
  const context = vm.createContext(sandbox, {
    name: 'cloudfront-function',
    codeGeneration: { strings: false, wasm: false },
    microtaskMode: 'afterEvaluate',
  });
  const started = performance.now();
  try {
    vm.runInContext(
      `(() => { const f = (...a) => __log(a.map((x) => typeof x === 'string' ? x : JSON.stringify(x)).join(' '));
        globalThis.console = { log: f, info: f, warn: f, error: f, debug: f }; })();`,
      context,
      { timeout },
    );
    vm.runInContext(code, context, { timeout, filename: 'function.js' });
    vm.runInContext(
      `if (typeof handler !== 'function') throw new Error('The function code does not define a handler function.');
       Promise.resolve(handler(JSON.parse(__event))).then(
         (v) => { globalThis.__out = JSON.stringify(v === undefined ? null : v); },
         (e) => { globalThis.__err = String(e && e.stack ? e.message : e); });`,
      context,
      { timeout },
    );
  } catch (error) {
    return result('', describe(error), logs, started, timeout);
  }
  const out = sandbox.__out;
  const err = sandbox.__err;
  if (typeof err === 'string') return result('', err, logs, started, timeout);
  if (typeof out !== 'string') return result('', 'The function did not return a value before the time limit.', logs, started, timeout);
  return result(out, '', logs, started, timeout);
}

function describe(error: unknown): string {
  if (error && typeof error === 'object' && 'message' in error) {
    const e = error as { message: unknown; code?: unknown };
    if (e.code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') return 'The function exceeded the maximum allowed execution time.';
    return String(e.message);
  }
  return String(error);
}

function result(output: string, errorMessage: string, logs: string[], started: number, timeout: number): TestRun {
  const used = Math.ceil(((performance.now() - started) / timeout) * 100);
  return { output, errorMessage, logs, computeUtilization: String(Math.min(100, Math.max(1, used))) };
}
