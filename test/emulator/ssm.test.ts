// SSM Parameter Store on the emulator (emulator/ssm.ts): the SDK and the real AWS CLI (botocore) read
// and write the same parameters over JSON 1.1; a missing name answers ParameterNotFound; the fault
// switch makes every call fail. The AWS CLI part is skipped when `aws` is not installed.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { withEmulator } from './helpers';

const hasAws = spawnSync('aws', ['--version'], { stdio: 'ignore' }).status === 0;
const run = promisify(execFile);
const NAME = '/cloudfront-autopublish/dev/pause';

async function awsSsm(endpoint: string, args: string[]): Promise<{ ok: true; out: any } | { ok: false; stderr: string }> {
  const { AWS_SESSION_TOKEN: _token, AWS_PROFILE: _profile, ...outer } = process.env;
  const env = { ...outer, AWS_ACCESS_KEY_ID: 'AKIDOPERATOR', AWS_SECRET_ACCESS_KEY: 'x', AWS_DEFAULT_REGION: 'us-east-1', AWS_PAGER: '' };
  try {
    const { stdout } = await run('aws', ['ssm', ...args, '--endpoint-url', endpoint, '--output', 'json'], { env });
    return { ok: true, out: stdout.trim() === '' ? undefined : JSON.parse(stdout) };
  } catch (error) {
    return { ok: false, stderr: String((error as { stderr?: unknown }).stderr ?? error) };
  }
}

const client = (endpoint: string) =>
  new SSMClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDSDK', secretAccessKey: 'x' }, maxAttempts: 1 });

describe('SSM GetParameter and PutParameter', () => {
  it('the SDK: ParameterNotFound, create (Type required), no overwrite without Overwrite, then versions count up', async () => {
    await withEmulator({}, async (emulator) => {
      const ssm = client(emulator.endpoint);
      await assert.rejects(ssm.send(new GetParameterCommand({ Name: NAME })), { name: 'ParameterNotFound' });
      await assert.rejects(ssm.send(new PutParameterCommand({ Name: NAME, Value: 'active' })), { name: 'ValidationException' });
      assert.equal((await ssm.send(new PutParameterCommand({ Name: NAME, Value: 'active', Type: 'String' }))).Version, 1);
      await assert.rejects(ssm.send(new PutParameterCommand({ Name: NAME, Value: 'paused' })), { name: 'ParameterAlreadyExists' });
      assert.equal((await ssm.send(new PutParameterCommand({ Name: NAME, Value: 'paused: incident 4711', Overwrite: true }))).Version, 2);
      const out = await ssm.send(new GetParameterCommand({ Name: NAME }));
      assert.equal(out.Parameter?.Value, 'paused: incident 4711');
      assert.equal(out.Parameter?.ARN, `arn:aws:ssm:us-east-1:${emulator.accountId}:parameter/cloudfront-autopublish/dev/pause`);
      assert.ok(out.Parameter?.LastModifiedDate instanceof Date);
      assert.equal(emulator.ssm.getParameter(NAME)?.version, 2);
      assert.equal(emulator.controls.calls().GetParameter, 2);
    });
  });

  it('the fault switch: every call answers the error until cleared', async () => {
    await withEmulator({}, async (emulator) => {
      const ssm = client(emulator.endpoint);
      emulator.ssm.putParameter(NAME, 'active');
      emulator.ssm.setFault({ code: 'AccessDeniedException', message: 'not authorized to perform: ssm:GetParameter' });
      await assert.rejects(ssm.send(new GetParameterCommand({ Name: NAME })), { name: 'AccessDeniedException', message: /ssm:GetParameter/ });
      emulator.ssm.setFault({ code: 'InternalServerError' });
      await assert.rejects(ssm.send(new GetParameterCommand({ Name: NAME })), (error: any) => error.$metadata.httpStatusCode === 500);
      emulator.ssm.setFault(undefined);
      assert.equal((await ssm.send(new GetParameterCommand({ Name: NAME }))).Parameter?.Value, 'active');
    });
  });

  it('the AWS CLI: put-parameter, get-parameter, and ParameterNotFound', { skip: hasAws ? false : 'aws CLI not installed' }, async () => {
    await withEmulator({}, async (emulator) => {
      const ep = emulator.endpoint;
      const missing = await awsSsm(ep, ['get-parameter', '--name', NAME]);
      assert.ok(!missing.ok && /ParameterNotFound/.test(missing.stderr), missing.ok ? 'found' : missing.stderr);
      const put = await awsSsm(ep, ['put-parameter', '--name', NAME, '--value', 'active', '--type', 'String']);
      assert.ok(put.ok, put.ok ? '' : put.stderr);
      assert.equal(put.out.Version, 1);
      const over = await awsSsm(ep, ['put-parameter', '--name', NAME, '--value', 'paused: cli', '--overwrite']);
      assert.ok(over.ok, over.ok ? '' : over.stderr);
      const got = await awsSsm(ep, ['get-parameter', '--name', NAME]);
      assert.ok(got.ok, got.ok ? '' : got.stderr);
      assert.equal(got.out.Parameter.Value, 'paused: cli');
      assert.equal(got.out.Parameter.Version, 2);
    });
  });
});
