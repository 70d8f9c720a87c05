/**
 * The runtime: settings, policy, clients and reporting of one reconciler, built once and passed in.
 * A deployed Lambda builds it from its environment (handlers/); tests, the local stack, the bench
 * and the CLI build it with `createRuntime(config, clients)` and hand it to the same handler code.
 */
import type { CloudFrontClient, CloudFrontClientConfig } from '@aws-sdk/client-cloudfront';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { S3Client } from '@aws-sdk/client-s3';
import { cloudFrontGateway, type CloudFrontGateway, createCloudFrontClient } from './cloudfront-gateway';
import { type Config, isOptedIn, nameGuard } from './config';
import type { Policy } from './decide';
import { createEventBridgeClient, eventBridgeGateway } from './eventbridge-gateway';
import { createSqsClient, type FailureQueue, sqsFailureQueue } from './failure-queue';
import { createPublishGate, type GateOverrides, type PublishGate } from './publish-gate';
import { createObservability, createReporter, type Observability, type Reporter } from './report';
import { createS3Client, s3Gateway } from './s3-gateway';

export interface Runtime {
  readonly config: Config;
  readonly policy: Policy;
  readonly observability: Observability;
  readonly reporter: Reporter;
  /**
   * The gateway to an account's functions. One account today: the deployment's own, whatever is
   * asked. Organisation mode adds a credential source per account behind this same call.
   */
  cloudfrontFor(account: string | undefined): CloudFrontGateway;
  /** Where the event path puts failures no retry can mend; undefined: Lambda's retries keep them. */
  readonly failureQueue: FailureQueue | undefined;
  /**
   * A publish gate for one invocation over `cloudfront` (it reads the account's associations at most
   * once); undefined when PUBLISH_GATE=off.
   */
  publishGate(cloudfront: CloudFrontGateway, overrides?: GateOverrides, options?: { force?: boolean }): PublishGate | undefined;
}

/** What a caller may bring instead of what the runtime would build from the settings. */
export interface RuntimeClients {
  readonly cloudFront?: CloudFrontClient;
  readonly eventBridge?: EventBridgeClient;
  readonly sqs?: SQSClient;
  readonly s3?: S3Client;
  /** A failure queue other than SQS (the local stack keeps failures in memory). */
  readonly failureQueue?: FailureQueue;
  /** Credentials for the clients the runtime builds; default: the SDK's credential chain. */
  readonly credentials?: CloudFrontClientConfig['credentials'];
  /** A named profile of the shared config files (the CLI's --profile). */
  readonly profile?: string;
  /** The signing region of the CloudFront client (CloudFront is global: us-east-1 by default). */
  readonly region?: string;
  readonly observability?: Observability;
}

export function policyFor(config: Config): Policy {
  return {
    optedIn: (tags) => isOptedIn(config, tags),
    nameAllowed: nameGuard(config),
    dryRun: config.dryRun,
    gate: config.publishGate === 'smoke',
  };
}

export function createRuntime(config: Config, clients: RuntimeClients = {}): Runtime {
  const credentials = {
    ...(clients.credentials ? { credentials: clients.credentials } : {}),
    ...(clients.profile ? { profile: clients.profile } : {}),
  };
  const cloudfront = cloudFrontGateway(
    clients.cloudFront ??
      createCloudFrontClient({
        endpoint: config.cloudFrontEndpoint,
        maxAttempts: config.maxAttempts,
        maxCallsPerSecond: config.maxCallsPerSecond,
        ...(clients.region ? { region: clients.region } : {}),
        ...credentials,
      }),
  );
  const eventBridge = config.eventBusName
    ? eventBridgeGateway(clients.eventBridge ?? createEventBridgeClient({ endpoint: config.eventBridgeEndpoint, ...credentials }), config.eventBusName)
    : undefined;
  const failureQueue =
    clients.failureQueue ??
    (config.failureQueueUrl
      ? sqsFailureQueue(clients.sqs ?? createSqsClient({ endpoint: config.sqsEndpoint, ...credentials }), config.failureQueueUrl)
      : undefined);
  const observability = clients.observability ?? createObservability();
  // Only a function that names its own cases needs S3, and only from the listed buckets.
  const s3 = config.testCasesBuckets.length > 0 ? s3Gateway(clients.s3 ?? createS3Client({ endpoint: config.s3Endpoint, ...credentials })) : undefined;
  const gateSettings = { maxCompute: config.maxComputeUtilization, testCasesBuckets: config.testCasesBuckets };
  return {
    config,
    policy: policyFor(config),
    observability,
    reporter: createReporter({ ...observability, eventBridge }),
    cloudfrontFor: () => cloudfront,
    failureQueue,
    publishGate: (gateway, overrides, options) =>
      config.publishGate === 'smoke' || options?.force ? createPublishGate(gateway, s3, gateSettings, overrides) : undefined,
  };
}

/** The account a Lambda runs in, from its own ARN; undefined when it cannot tell (local runs). */
export function accountOf(context: { invokedFunctionArn?: string } | undefined): string | undefined {
  const account = context?.invokedFunctionArn?.split(':')[4];
  return account && /^\d{12}$/.test(account) ? account : undefined;
}

/** The partition a Lambda runs in, from its own ARN; undefined when it cannot tell (local runs). */
export function partitionOf(context: { invokedFunctionArn?: string } | undefined): string | undefined {
  const partition = context?.invokedFunctionArn?.split(':')[1];
  return partition && /^aws(-[a-z]+)*$/.test(partition) ? partition : undefined;
}
