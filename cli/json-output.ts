/**
 * `--json` is a contract (docs/cli-contract.md): every command's document carries `schemaVersion` and
 * `command`, and names a function `functionName`, its decision `action` and the DEVELOPMENT ETag it was
 * made on `etag`, as the outcomes of lib/reconcile.ts do. docs/cli-output.schema.json describes each
 * document; test/cli/json-contract.test.ts validates every command's output against it.
 */
import { jsonText } from './terminal';

/** Raised when a field is renamed or removed; adding a field keeps it. */
export const SCHEMA_VERSION = 1;

export function contractJson(command: string, body: Record<string, unknown>): string {
  return jsonText({ schemaVersion: SCHEMA_VERSION, command, ...body });
}
