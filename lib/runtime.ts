/**
 * Wires settings to gateways once per container: clients are built on the first invocation (so a bad
 * setting fails that invocation, naming the variable) and reused while the settings stay the same.
 */
import type { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { cloudFrontGateway, type CloudFrontGateway, createCloudFrontClient } from './cloudfront-gateway';
import { type Config, isOptedIn, loadConfig, nameGuard } from './config';
import type { Policy } from './decide';
import { createEventBridgeClient, eventBridgeGateway } from './eventbridge-gateway';
import { createReporter, logger, metrics, type Reporter } from './report';

export interface Runtime {
  readonly config: Config;
  readonly cloudfront: CloudFrontGateway;
  /** The SDK client behind `cloudfront` (one per container), e.g. to observe calls in a benchmark. */
  readonly cloudFrontClient: CloudFrontClient;
  readonly policy: Policy;
  readonly reporter: Reporter;
}

export interface RuntimeClients {
  readonly cloudFront?: CloudFrontClient;
  readonly eventBridge?: EventBridgeClient;
}

export function policyFor(config: Config): Policy {
  return {
    optedIn: (tags) => isOptedIn(config, tags),
    nameAllowed: nameGuard(config),
    dryRun: config.dryRun,
  };
}

export function createRuntime(config: Config, clients: RuntimeClients = {}): Runtime {
  const cloudFront = clients.cloudFront ?? createCloudFrontClient({
    endpoint: config.cloudFrontEndpoint,
    maxAttempts: config.maxAttempts,
    maxCallsPerSecond: config.maxCallsPerSecond,
  });
  const eventBridge = config.eventBusName
    ? eventBridgeGateway(clients.eventBridge ?? createEventBridgeClient(), config.eventBusName)
    : undefined;
  return {
    config,
    cloudfront: cloudFrontGateway(cloudFront),
    cloudFrontClient: cloudFront,
    policy: policyFor(config),
    reporter: createReporter({ logger, metrics, eventBridge }),
  };
}

let cached: { key: string; runtime: Runtime } | undefined;

/** The runtime for the current environment, rebuilt only when a setting changed. */
export function runtimeFromEnvironment(env: NodeJS.ProcessEnv = process.env): Runtime {
  const config = loadConfig(env);
  const key = JSON.stringify(config);
  if (cached?.key !== key) cached = { key, runtime: createRuntime(config) };
  return cached.runtime;
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
