/**
 * The one module that talks to SSM: reading the pause parameter through Powertools' Parameters
 * utility (its cache keeps a value for PAUSE_CACHE_SECONDS), and, for the CLI alone, writing it.
 */
import { BaseProvider } from '@aws-lambda-powertools/parameters/base';
import { GetParameterCommand, PutParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { type AwsClientOptions, awsClientConfig } from './aws-client';
import { AutoPublishError, describeError } from './errors';
import { interpretPause, type PauseState } from './pause';

/** SSM answers in milliseconds; a call that hangs must not hold the invocation to its timeout. */
const REQUEST_TIMEOUT_MS = 5_000;

export function createSsmClient(options: AwsClientOptions = {}): SSMClient {
  return new SSMClient({
    ...awsClientConfig({ ...options, region: options.region ?? 'us-east-1' }, 3),
    requestHandler: { requestTimeout: REQUEST_TIMEOUT_MS, connectionTimeout: REQUEST_TIMEOUT_MS, throwOnRequestTimeout: true },
  });
}

/**
 * The pause parameter could not be read (refused, throttled, SSM down): the invocation fails and is
 * retried, since nothing may be published on a guess.
 */
export class PauseReadError extends AutoPublishError {
  override name = 'PauseReadError';
  readonly retryable = true;
  constructor(parameter: string, cause: unknown) {
    super(`cannot read the pause parameter ${parameter}: ${describeError(cause)}`, { cause });
  }
}

export interface PauseSwitch {
  /** The pause in force; rejects with PauseReadError when the parameter cannot be read. */
  read(): Promise<PauseState>;
}

/**
 * Powertools' cache and expiry (BaseProvider) over one GetParameter. Its SSMProvider would do the same,
 * but it also brings GetParameters, GetParametersByPath and PutParameter into every Lambda bundle
 * (about 6 KB zipped, measured with esbuild's metafile), which pushed the handlers over their 250 KB
 * target; the reconciler reads one plain String parameter and nothing else.
 */
class PauseParameterProvider extends BaseProvider {
  constructor(client: SSMClient) {
    super({ awsSdkV3Client: client });
  }
  protected async _get(name: string): Promise<string | undefined> {
    return (await (this.client as SSMClient).send(new GetParameterCommand({ Name: name }))).Parameter?.Value;
  }
  protected async _getMultiple(): Promise<Record<string, unknown> | undefined> {
    throw new Error('the pause switch reads one parameter, never a path');
  }
}

export function ssmPauseSwitch(client: SSMClient, parameter: string, cacheSeconds: number): PauseSwitch {
  const provider = new PauseParameterProvider(client);
  return {
    async read() {
      let value: string | undefined;
      try {
        // maxAge 0 would still store the value; forceFetch skips the cache altogether.
        const read = await provider.get(parameter, cacheSeconds > 0 ? { maxAge: cacheSeconds } : { forceFetch: true });
        value = typeof read === 'string' ? read : undefined;
      } catch (error) {
        if (isParameterNotFound(error)) return interpretPause(undefined);
        throw new PauseReadError(parameter, causeOf(error));
      }
      return interpretPause(value);
    },
  };
}

/** Powertools wraps the SDK's error in a GetParameterError; the SDK's own name is on its cause. */
function isParameterNotFound(error: unknown): boolean {
  return (causeOf(error) as { name?: unknown } | null)?.name === 'ParameterNotFound';
}

function causeOf(error: unknown): unknown {
  const cause = (error as { cause?: unknown } | null)?.cause;
  return cause ?? error;
}

/** The operator's side (the CLI, with the operator's credentials): read and write the parameter directly. */
export interface PauseParameterStore {
  /** The value, or undefined when the parameter does not exist. */
  get(): Promise<string | undefined>;
  put(value: string): Promise<void>;
}

export function pauseParameterStore(client: SSMClient, parameter: string): PauseParameterStore {
  return {
    async get() {
      try {
        return (await client.send(new GetParameterCommand({ Name: parameter }))).Parameter?.Value;
      } catch (error) {
        if ((error as { name?: unknown }).name === 'ParameterNotFound') return undefined;
        throw error;
      }
    },
    async put(value) {
      await client.send(new PutParameterCommand({ Name: parameter, Value: value, Type: 'String', Overwrite: true }));
    },
  };
}
