/** What a console user or a CI job does to a function of either kind: send new code over the DEVELOPMENT ETag it holds. */
import {
  type CloudFrontClient,
  DescribeConnectionFunctionCommand,
  DescribeFunctionCommand,
  type FunctionConfig,
  UpdateConnectionFunctionCommand,
  UpdateFunctionCommand,
} from '@aws-sdk/client-cloudfront';

/** A console user: reads DEVELOPMENT, then updates `name` with `code`, keeping its config; resolves with the new DEVELOPMENT ETag. */
export async function editFunction(client: CloudFrontClient, name: string, code: string): Promise<string> {
  const current = await client.send(new DescribeFunctionCommand({ Name: name, Stage: 'DEVELOPMENT' }));
  return update(client, name, code, current.ETag, current.FunctionSummary?.FunctionConfig);
}

/**
 * A CI job that knows the ETag of its last deploy: one UpdateFunction over `ifMatch`, no read first;
 * resolves with the new DEVELOPMENT ETag.
 */
export function deployFunction(client: CloudFrontClient, name: string, code: string, ifMatch: string): Promise<string> {
  return update(client, name, code, ifMatch, { Comment: 'ci deploy', Runtime: 'cloudfront-js-2.0' });
}

async function update(client: CloudFrontClient, name: string, code: string, ifMatch: string | undefined, config: FunctionConfig | undefined): Promise<string> {
  const out = await client.send(
    new UpdateFunctionCommand({ Name: name, IfMatch: ifMatch, FunctionConfig: config, FunctionCode: new TextEncoder().encode(code) }),
  );
  return out.ETag as string;
}

/**
 * A console user editing a connection function (addressed by its Id, as UpdateConnectionFunction
 * is): reads DEVELOPMENT, then updates it with `code`, keeping its config; resolves with the new
 * DEVELOPMENT ETag. The emulator writes the UpdateConnectionFunction CloudTrail record, as for any caller.
 */
export async function editConnectionFunction(client: CloudFrontClient, id: string, code: string): Promise<string> {
  const current = await client.send(new DescribeConnectionFunctionCommand({ Identifier: id, Stage: 'DEVELOPMENT' }));
  return updateConnection(client, id, code, current.ETag, current.ConnectionFunctionSummary?.ConnectionFunctionConfig);
}

/** A CI job deploying a connection function over the ETag of its last deploy: one UpdateConnectionFunction, no read first. */
export function deployConnectionFunction(client: CloudFrontClient, id: string, code: string, ifMatch: string): Promise<string> {
  return updateConnection(client, id, code, ifMatch, { Comment: 'ci deploy', Runtime: 'cloudfront-js-2.0' });
}

async function updateConnection(
  client: CloudFrontClient,
  id: string,
  code: string,
  ifMatch: string | undefined,
  config: FunctionConfig | undefined,
): Promise<string> {
  const out = await client.send(
    new UpdateConnectionFunctionCommand({ Id: id, IfMatch: ifMatch, ConnectionFunctionConfig: config, ConnectionFunctionCode: new TextEncoder().encode(code) }),
  );
  return out.ETag as string;
}
