/**
 * The one module that talks to CloudFront. It turns the API's answers into the domain's terms
 * (stages, ETags, tags, "gone") and its expected errors into values; anything unexpected throws.
 * It can only read and publish: there is deliberately no way to update, delete or tag here.
 */
import {
  CloudFrontClient,
  type CloudFrontClientConfig,
  DescribeFunctionCommand,
  ListFunctionsCommand,
  ListTagsForResourceCommand,
  PublishFunctionCommand,
} from '@aws-sdk/client-cloudfront';
import type { Stage, StageView } from './decide';
import { isFunctionName } from './function-ref';

export interface FunctionListing {
  readonly name: string;
  readonly arn: string;
  readonly status: string;
  /** ARNs of the associated KeyValueStores (at most one today). */
  readonly keyValueStores: readonly string[];
}

export interface DescribedStage extends StageView {
  readonly arn: string | undefined;
}

export type PublishResult = 'published' | 'precondition-failed' | 'gone';

export interface CloudFrontGateway {
  /** 'gone' when the function (resource) no longer exists. */
  readTags(arn: string): Promise<Record<string, string> | 'gone'>;
  /** null when the stage does not exist: the function is gone (DEVELOPMENT) or never published (LIVE). */
  describe(name: string, stage: Stage): Promise<DescribedStage | null>;
  publish(name: string, developmentEtag: string): Promise<PublishResult>;
  /** One page of functions at a time, following NextMarker to the end. */
  listFunctions(stage: Stage): AsyncIterable<FunctionListing[]>;
}

export interface CloudFrontClientOptions {
  readonly endpoint?: string | undefined;
  readonly maxAttempts?: number;
  readonly credentials?: CloudFrontClientConfig['credentials'];
  readonly region?: string;
}

/** CloudFront is global; its control plane is signed for us-east-1. */
export function createCloudFrontClient(options: CloudFrontClientOptions = {}): CloudFrontClient {
  return new CloudFrontClient({
    region: options.region ?? 'us-east-1',
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 8,
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.credentials ? { credentials: options.credentials } : {}),
  });
}

export function cloudFrontGateway(client: CloudFrontClient): CloudFrontGateway {
  return {
    async readTags(arn) {
      try {
        const out = await client.send(new ListTagsForResourceCommand({ Resource: arn }));
        const tags: Record<string, string> = {};
        for (const tag of out.Tags?.Items ?? []) {
          if (tag.Key !== undefined) tags[tag.Key] = tag.Value ?? '';
        }
        return tags;
      } catch (error) {
        if (isError(error, 'NoSuchResource', 'NoSuchFunctionExists')) return 'gone';
        throw error;
      }
    },

    async describe(name, stage) {
      assertName(name);
      try {
        const out = await client.send(new DescribeFunctionCommand({ Name: name, Stage: stage }));
        if (!out.ETag) throw new Error(`DescribeFunction ${name} (${stage}) answered without an ETag`);
        return { etag: out.ETag, status: out.FunctionSummary?.Status ?? '', arn: out.FunctionSummary?.FunctionMetadata?.FunctionARN };
      } catch (error) {
        if (isError(error, 'NoSuchFunctionExists')) return null;
        throw error;
      }
    },

    async publish(name, developmentEtag) {
      assertName(name);
      try {
        await client.send(new PublishFunctionCommand({ Name: name, IfMatch: developmentEtag }));
        return 'published';
      } catch (error) {
        if (isError(error, 'PreconditionFailed')) return 'precondition-failed';
        if (isError(error, 'NoSuchFunctionExists')) return 'gone';
        throw error;
      }
    },

    async *listFunctions(stage) {
      let marker: string | undefined;
      do {
        const out = await client.send(new ListFunctionsCommand({ Stage: stage, MaxItems: 100, Marker: marker }));
        const page: FunctionListing[] = [];
        for (const item of out.FunctionList?.Items ?? []) {
          const arn = item.FunctionMetadata?.FunctionARN;
          if (!item.Name || !arn) continue;
          const stores = item.FunctionConfig?.KeyValueStoreAssociations?.Items ?? [];
          page.push({ name: item.Name, arn, status: item.Status ?? '', keyValueStores: stores.flatMap((s) => (s.KeyValueStoreARN ? [s.KeyValueStoreARN] : [])) });
        }
        yield page;
        const next = out.FunctionList?.NextMarker;
        // A marker that does not move would loop forever: treat it as the end.
        marker = next && next !== marker ? next : undefined;
      } while (marker);
    },
  };
}

/** The SDK names modelled errors by `name`; unmodelled ones (Throttling) by `name` too. */
export function isError(error: unknown, ...names: string[]): boolean {
  return typeof error === 'object' && error !== null && names.includes((error as { name?: unknown }).name as string);
}

// Names come from events; never let one that breaks CloudFront's rule reach a URL path.
function assertName(name: string): void {
  if (!isFunctionName(name)) throw new Error(`refusing to call CloudFront for invalid function name ${JSON.stringify(name)}`);
}
