/** `demo --keep`: an edit made while it runs is printed as it goes live, not only visible in `status`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CloudFrontClient, DescribeFunctionCommand, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';
import { runDemo } from '../../cli/demo';

test('demo --keep prints each publish as it happens', { timeout: 60_000 }, async () => {
  const lines: string[] = [];
  let stop!: () => void;
  const until = new Promise<void>((resolve) => {
    stop = resolve;
  });
  let printed: (line: string) => void = () => {};
  const io = {
    out: (t: string) => {
      for (const line of t.split('\n')) {
        lines.push(line);
        printed(line);
      }
    },
    err: (t: string) => lines.push(t),
    interactive: false,
    env: process.env,
  };
  const demo = runDemo({ keep: true, io, until });
  const endpoint = await new Promise<string>((resolve) => {
    printed = (line) => {
      const match = /^Still running \(Ctrl-C to stop\)\. Endpoint: (\S+)$/.exec(line);
      if (match) resolve(match[1]!);
    };
  });
  // An edit from outside, as the AWS CLI would make it against the endpoint the demo printed.
  const client = new CloudFrontClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'console-user', secretAccessKey: 'local' } });
  const current = await client.send(new DescribeFunctionCommand({ Name: 'price-banner', Stage: 'DEVELOPMENT' }));
  const seen = new Promise<string>((resolve) => {
    printed = (line) => {
      if (/^ {2}\d\d:\d\d:\d\d published price-banner /.test(line)) resolve(line);
    };
  });
  const updated = await client.send(
    new UpdateFunctionCommand({
      Name: 'price-banner',
      IfMatch: current.ETag,
      FunctionCode: Buffer.from('function handler(event) { return event.request; } // edited while --keep runs'),
      FunctionConfig: { Comment: '', Runtime: 'cloudfront-js-2.0' },
    }),
  );
  const line = await seen;
  assert.match(line, new RegExp(`published price-banner ${updated.ETag} \\(event UpdateFunction\\)$`));
  stop();
  assert.equal(await demo, 0, lines.join('\n'));
});
