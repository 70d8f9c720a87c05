/**
 * Every SDK client the reconciler builds ends a hung connection: a server that accepts and never
 * answers gets a timeout per attempt, not a call that waits for the container's lifetime.
 * test/cloudfront-client.test.ts does the same for CloudFront.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { AssumeRoleCommand } from '@aws-sdk/client-sts';
import { ListAccountsCommand } from '@aws-sdk/client-organizations';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { createStsClient } from '../lib/sts-gateway';
import { createOrganizationsClient } from '../lib/organizations-gateway';
import { createSqsClient } from '../lib/sqs-gateway';
import { createEventBridgeClient } from '../lib/eventbridge-gateway';
import { createS3Client, s3Gateway } from '../lib/s3-gateway';
import { TEST_CREDENTIALS } from './support/lambda';

let server: Server;
let endpoint: string;

before(async () => {
  server = createServer(() => undefined); // accepts, never answers
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

const options = () => ({ endpoint, maxAttempts: 2, requestTimeoutMs: 300, credentials: TEST_CREDENTIALS });

const calls: Record<string, () => Promise<unknown>> = {
  'STS AssumeRole': () => createStsClient(options()).send(new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::111111111111:role/r', RoleSessionName: 's' })),
  'Organizations ListAccounts': () => createOrganizationsClient(options()).send(new ListAccountsCommand({})),
  'SQS SendMessage': () =>
    createSqsClient({ ...options(), region: 'us-east-1' }).send(new SendMessageCommand({ QueueUrl: `${endpoint}/1/q`, MessageBody: '{}' })),
  'EventBridge PutEvents': () =>
    createEventBridgeClient({ ...options(), region: 'us-east-1' }).send(
      new PutEventsCommand({ Entries: [{ Source: 's', DetailType: 't', Detail: '{}', EventBusName: 'b' }] }),
    ),
  'S3 GetObject': () => s3Gateway(createS3Client(options())).readText('bucket', 'key.json'),
};

for (const [name, call] of Object.entries(calls)) {
  test(`${name}: a connection that never answers ends in a timeout per attempt, not a hang`, { timeout: 15_000 }, async () => {
    const started = Date.now();
    await assert.rejects(call(), /timeout|timed out|socket hang up/i);
    // Two attempts of 300 ms plus backoff: well under the test's limit, far from a hang.
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
  });
}
