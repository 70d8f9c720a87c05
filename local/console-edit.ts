/** What a console user or a CI job does to a function: send new code over the DEVELOPMENT ETag it holds. */
import { type CloudFrontClient, DescribeFunctionCommand, type FunctionConfig, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';

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
