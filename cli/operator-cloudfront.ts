/**
 * The one CloudFront write that only an operator makes: `rollback` puts saved code and configuration
 * back into DEVELOPMENT. It lives in cli/, never in lib/, so no Lambda bundle can carry it, and it runs
 * with the operator's own credentials: the reconciler's role has no cloudfront:UpdateFunction or
 * UpdateConnectionFunction (test/serverless-template.test.ts).
 */
import { type CloudFrontClient, type FunctionConfig, UpdateConnectionFunctionCommand, UpdateFunctionCommand } from '@aws-sdk/client-cloudfront';
import type { FunctionSettings } from '../lib/cloudfront-gateway';
import { isError } from '../lib/cloudfront-gateway';
import type { FunctionRef } from '../lib/function-ref';

/**
 * UpdateFunction (by name) or UpdateConnectionFunction (by Id), with the same code and configuration.
 * 'precondition-failed': DEVELOPMENT is no longer `ifMatch` (someone edited it since it was read).
 */
export async function writeDevelopment(
  client: CloudFrontClient,
  fn: FunctionRef,
  ifMatch: string,
  code: Uint8Array,
  config: FunctionSettings,
): Promise<{ etag: string } | 'precondition-failed'> {
  const stores = config.keyValueStoreAssociations;
  const functionConfig: FunctionConfig = {
    Comment: config.comment,
    Runtime: config.runtime as never,
    ...(stores.length > 0 ? { KeyValueStoreAssociations: { Quantity: stores.length, Items: stores.map((arn) => ({ KeyValueStoreARN: arn })) } } : {}),
  };
  try {
    const out =
      fn.kind === 'connection'
        ? await client.send(
            new UpdateConnectionFunctionCommand({ Id: fn.id, IfMatch: ifMatch, ConnectionFunctionCode: code, ConnectionFunctionConfig: functionConfig }),
          )
        : await client.send(new UpdateFunctionCommand({ Name: fn.name, IfMatch: ifMatch, FunctionCode: code, FunctionConfig: functionConfig }));
    if (!out.ETag) throw new Error(`${fn.kind === 'connection' ? 'UpdateConnectionFunction' : 'UpdateFunction'} ${fn.name} answered without an ETag`);
    return { etag: out.ETag };
  } catch (error) {
    if (isError(error, 'PreconditionFailed')) return 'precondition-failed';
    throw error;
  }
}
