/**
 * TestConnectionFunction's runner: the connection function's code, run on a connection object in the
 * same sandbox, worker and compute budget as TestFunction's (emulator/runtime.ts `runFunction`, whose
 * `handler(event)` entry point this module supplies).
 *
 * The handler shape follows the Developer Guide (write-connection-function-code.html, "Event structure
 * for Connection Functions" and "helper methods"): `connectionHandler(connection)` (sync or async)
 * receives the connection object itself (`clientCertificate.certificates.leaf` with `subject`,
 * `issuer`, `serialNumber`, `validity.notBefore/notAfter`, `sha256Fingerprint`; `clientIp`,
 * `endpoint`, `distributionId`, `connectionId`) and decides by calling `connection.allow()` or
 * `connection.deny()`; `connection.logCustomData(text)` feeds CloudFront's connection logs, which are
 * not modelled (accepted and dropped). The object is passed as given: the emulator does not insist on
 * any member, so a test object with a revocation-check result carries it to the function as is.
 *
 * The decision (emulator choices, the real TestConnectionFunction output is not documented):
 * - The first `allow()`/`deny()` call decides; later calls change nothing (the handshake is settled).
 * - ConnectionFunctionOutput is `{"decision":"allow"}`, `{"decision":"deny"}` or, when the handler
 *   returned without calling either, `{"decision":"none"}` (CloudFront then denies by default).
 * - A handler that throws, code that does not parse, or a run over the budget answers as TestFunction
 *   does: the error message, no output, decision `none`.
 */
import { type RunOptions, runFunction, type TestRun } from './runtime';

export type ConnectionDecision = 'allow' | 'deny' | 'none';

export interface ConnectionTestRun extends TestRun {
  /** What the function decided; `none` when it threw, timed out or returned without deciding. */
  decision: ConnectionDecision;
}

/**
 * Appended to the function's code: the `handler` runFunction calls. Declared after the user's code, so
 * it wins over a `handler` the user declared (a viewer function uploaded as a connection function then
 * fails for want of `connectionHandler`, as it would on CloudFront).
 */
const ENTRY = `
;function handler(connection) {
  if (typeof connectionHandler !== 'function') throw new Error('The function code does not define a connectionHandler function.');
  var decision = 'none';
  var decide = function (value) { return function () { if (decision === 'none') decision = value; }; };
  var hidden = function (name, value) { Object.defineProperty(connection, name, { value: value, enumerable: false }); };
  hidden('allow', decide('allow'));
  hidden('deny', decide('deny'));
  hidden('logCustomData', function () {});
  return Promise.resolve(connectionHandler(connection)).then(function () { return { decision: decision }; });
}
`;

/** Runs `code`'s connectionHandler on the connection object `connectionJson` (a JSON object's text). */
export async function runConnectionFunction(code: string, connectionJson: string, options: RunOptions = {}): Promise<ConnectionTestRun> {
  const run = await runFunction(`${code}\n${ENTRY}`, connectionJson, options);
  return { ...run, decision: decisionOf(run.output) };
}

function decisionOf(output: string): ConnectionDecision {
  if (output === '') return 'none';
  try {
    const decision = (JSON.parse(output) as { decision?: unknown }).decision;
    return decision === 'allow' || decision === 'deny' ? decision : 'none';
  } catch {
    return 'none';
  }
}
