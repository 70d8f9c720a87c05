/** The CloudFront client the runtime builds: a hung connection ends, and pacing is really in the pipeline. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { cloudFrontGateway, createCloudFrontClient } from '../lib/cloudfront-gateway';
import { startEmulator } from '../emulator';
import { TEST_CREDENTIALS } from './support/lambda';

test('a connection that never answers ends in a timeout per attempt, not a hang', { timeout: 20_000 }, async () => {
  const server = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  try {
    const gateway = cloudFrontGateway(
      createCloudFrontClient({ endpoint: `http://127.0.0.1:${port}`, maxAttempts: 2, requestTimeoutMs: 300, credentials: TEST_CREDENTIALS }),
    );
    const started = Date.now();
    await assert.rejects(gateway.describe('f', 'DEVELOPMENT'), /timeout|timed out|socket hang up/i);
    // Two attempts of 300 ms plus backoff: well under the test's limit, far from a hang.
    assert.ok(Date.now() - started < 10_000);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});

test('maxCallsPerSecond paces every call of the client (the pacer is in its middleware stack)', async () => {
  const emulator = await startEmulator({});
  try {
    emulator.state.seed({ name: 'f', code: 'function handler(e) { return e.request; }' });
    const paced = cloudFrontGateway(
      createCloudFrontClient({ endpoint: emulator.endpoint, maxAttempts: 1, maxCallsPerSecond: 5, burst: 1, credentials: TEST_CREDENTIALS }),
    );
    const started = Date.now();
    await Promise.all(Array.from({ length: 4 }, () => paced.describe('f', 'DEVELOPMENT')));
    // One token now, then one per 200 ms: the fourth call cannot start before 600 ms. A lower bound
    // only, so a loaded machine cannot break it.
    assert.ok(Date.now() - started >= 550, `4 calls at 5/s took ${Date.now() - started} ms`);
  } finally {
    await emulator.close();
  }
});
