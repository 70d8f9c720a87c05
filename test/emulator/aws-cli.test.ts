// The real AWS CLI (botocore) against the emulator, for the shapes the SDK is lenient about:
// ListDistributions and the DEPLOYED status of an associated function. Skipped when `aws` is not
// installed; emulator/AWS-CLI.md has a full transcript.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { CODE, withEmulator } from './helpers';

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
const run = promisify(execFile);

describe('the AWS CLI against the emulator', { skip: hasAws ? false : 'aws CLI not installed' }, () => {
  it('list-distributions (paged by the CLI) and describe-function of an associated function parse', async () => {
    await withEmulator({}, async (emulator) => {
      emulator.state.seed({ name: 'url-rewrite', code: CODE, publish: true });
      const first = emulator.state.createDistribution({ pathPatterns: ['/api/*'] });
      emulator.state.createDistribution();
      emulator.state.createDistribution();
      emulator.state.associateFunction({
        distributionId: first.id,
        functionArn: 'arn:aws:cloudfront::123456789012:function/url-rewrite',
        eventType: 'viewer-response',
        pathPattern: '/api/*',
      });
      const env = { ...process.env, AWS_ACCESS_KEY_ID: 'AKIDCLI', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
      const aws = async (...args: string[]) =>
        JSON.parse((await run('aws', ['cloudfront', ...args, '--endpoint-url', emulator.endpoint, '--output', 'json'], { env })).stdout) as unknown;

      const listed = (await aws('list-distributions', '--page-size', '2')) as {
        DistributionList: { Items: Array<{ Id: string; CacheBehaviors: { Items?: Array<{ PathPattern: string; FunctionAssociations: unknown }> } }> };
      };
      const items = listed.DistributionList.Items;
      assert.deepEqual(items.map((d) => d.Id), emulator.state.distributions().map((d) => d.id), 'the CLI followed NextMarker to the end');
      const withBehaviour = items.find((d) => d.Id === first.id);
      assert.deepEqual(withBehaviour?.CacheBehaviors.Items?.[0]?.FunctionAssociations, {
        Quantity: 1,
        Items: [{ FunctionARN: 'arn:aws:cloudfront::123456789012:function/url-rewrite', EventType: 'viewer-response' }],
      });

      const described = (await aws('describe-function', '--name', 'url-rewrite', '--stage', 'LIVE')) as { ETag: string; FunctionSummary: { Status: string } };
      assert.equal(described.FunctionSummary.Status, 'DEPLOYED');
      assert.equal(described.ETag, 'ETVPDKIKX0DER');
    });
  });
});
