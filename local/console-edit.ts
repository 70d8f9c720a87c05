/** What a console user or a CI job does to a function: read DEVELOPMENT, send new code with its ETag. */
import { type CloudFrontClient, DescribeFunctionCommand, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';

/** Updates `name` with `code`, keeping its config; resolves with the new DEVELOPMENT ETag. */
export async function editFunction(client: CloudFrontClient, name: string, code: string): Promise<string> {
  const current = await client.send(new DescribeFunctionCommand({ Name: name, Stage: 'DEVELOPMENT' }));
  const out = await client.send(
    new UpdateFunctionCommand({ Name: name, IfMatch: current.ETag, FunctionConfig: current.FunctionSummary?.FunctionConfig, FunctionCode: new TextEncoder().encode(code) }),
  );
  return out.ETag as string;
}
