/**
 * logs.test.ts again, in a child process whose environment turns Powertools' event logging on
 * (POWERTOOLS_LOGGER_LOG_EVENT=true, read when the Logger is built): the handlers still never log the
 * event, so no line may carry function code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('with POWERTOOLS_LOGGER_LOG_EVENT=true, no log line carries function code', () => {
  const file = fileURLToPath(new URL('./logs.test.ts', import.meta.url));
  // Without NODE_TEST_CONTEXT the child reports to its own stdout, not to this runner.
  const { NODE_TEST_CONTEXT: _inner, ...env } = process.env;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--test', '--test-reporter=tap', file], {
    env: { ...env, POWERTOOLS_LOGGER_LOG_EVENT: 'true' },
    encoding: 'utf8',
    timeout: 120_000,
  });
  assert.match(child.stdout, /event logging on, as POWERTOOLS_LOGGER_LOG_EVENT=true/, 'the child ran with event logging on');
  assert.match(child.stdout, /^# fail 0$/m, child.stdout.slice(-2000));
  assert.equal(child.status, 0);
});
