/**
 * The one module that talks to STS: credentials for a member account, from AssumeRole on its member
 * role, cached per account and refreshed before they expire. A warm container therefore calls
 * AssumeRole once per account per credential lifetime, however many events that account sends.
 *
 * It asks `isMember` before every AssumeRole, so no caller (a forged event, a bug in a handler) can
 * make it assume a role in an account outside the member list (invariant 5, docs/architecture). The
 * sweep worker's `isMember` is the sweep queue's word when MEMBER_ACCOUNTS is empty: its senders
 * checked the account against the listing (lib/fan-out.ts, sweepQueueMembers).
 */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import { type AwsClientOptions, awsClientConfig, withDeadline } from './aws-client';
import { AutoPublishError, isPermanentAwsError } from './errors';

/** Shown in every member account's CloudTrail as assumed-role/<member role>/<this>. */
export const ROLE_SESSION_NAME = 'cloudfront-autopublish';

/**
 * An hour: the most a chained role session may last (a Lambda's role assuming another role is role
 * chaining), and the member template's MaxSessionDuration.
 */
export const SESSION_SECONDS = 3600;

/**
 * Fresh credentials are fetched when the cached ones have less than this left. The SDK asks its
 * credential provider again when credentials are within 5 minutes of expiry (docs/cloudfront-api.md#many-accounts), so a shorter window
 * would hand it the same nearly-expired credentials over and over.
 */
export const REFRESH_BEFORE_MS = 5 * 60_000;

/**
 * The most one AssumeRole, the SDK's retries included, may take. Callers share the pending call
 * through the cache, so it must end: a stalled one fails, leaves the cache, and the next caller asks
 * again. Well under the event handler's 30 s timeout (serverless.yml).
 */
export const CREDENTIALS_TIMEOUT_MS = 15_000;

export class NotAMemberError extends AutoPublishError {
  override name = 'NotAMemberError';
  readonly retryable = false;
  constructor(readonly account: string) {
    super(`account ${account} is not in the member list; no role is assumed there`);
  }
}

export class MemberRoleError extends AutoPublishError {
  override name = 'MemberRoleError';
  readonly retryable: boolean;
  constructor(
    readonly account: string,
    roleArn: string,
    cause: unknown,
  ) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`could not assume ${roleArn} in account ${account} (is the member stack deployed there?): ${why}`, { cause });
    // AccessDenied (no such role, or it does not trust us) answers the same until someone deploys
    // the member stack; throttling or a 5xx may pass.
    this.retryable = !isPermanentAwsError(cause);
  }
}

export interface MemberCredentialsOptions {
  readonly sts: STSClient;
  readonly roleName: string;
  /** Asked before every AssumeRole; false fails with NotAMemberError and makes no call. */
  readonly isMember: (account: string) => Promise<boolean>;
  readonly partition?: string;
  readonly now?: () => number;
  /** Default CREDENTIALS_TIMEOUT_MS. */
  readonly timeoutMs?: number;
}

export interface MemberCredentials {
  /** The credential provider of one member account, for that account's SDK clients. */
  providerFor(account: string): AwsCredentialIdentityProvider;
}

export function createStsClient(options: AwsClientOptions = {}): STSClient {
  return new STSClient({ region: 'us-east-1', ...awsClientConfig(options, 5) });
}

export function memberCredentials(options: MemberCredentialsOptions): MemberCredentials {
  const now = options.now ?? Date.now;
  const partition = options.partition ?? 'aws';
  // One entry per account: the credentials, or the AssumeRole in flight (concurrent callers share it).
  const cache = new Map<string, Promise<AwsCredentialIdentity>>();

  const fresh = (credentials: AwsCredentialIdentity) => credentials.expiration !== undefined && credentials.expiration.getTime() - now() > REFRESH_BEFORE_MS;
  const timeoutMs = options.timeoutMs ?? CREDENTIALS_TIMEOUT_MS;

  async function assume(account: string): Promise<AwsCredentialIdentity> {
    // Bounded on its own (organizationMembers' listing deadline).
    if (!(await options.isMember(account))) throw new NotAMemberError(account);
    const roleArn = `arn:${partition}:iam::${account}:role/${options.roleName}`;
    let c: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date } | undefined;
    try {
      const command = new AssumeRoleCommand({ RoleArn: roleArn, RoleSessionName: ROLE_SESSION_NAME, DurationSeconds: SESSION_SECONDS });
      c = (await withDeadline(timeoutMs, `AssumeRole ${roleArn}`, (abortSignal) => options.sts.send(command, { abortSignal }))).Credentials;
    } catch (error) {
      throw new MemberRoleError(account, roleArn, error);
    }
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !(c.Expiration instanceof Date)) {
      throw new MemberRoleError(account, roleArn, new Error('AssumeRole answered without complete credentials'));
    }
    return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration, accountId: account };
  }

  async function credentialsFor(account: string): Promise<AwsCredentialIdentity> {
    const cached = cache.get(account);
    if (cached) {
      // Everyone waiting on one attempt shares its outcome, a refusal included (no second AssumeRole).
      const credentials = await cached;
      if (fresh(credentials)) return credentials;
      // Expiring: only the first caller to get here starts a new one.
      if (cache.get(account) !== cached) return credentialsFor(account);
    }
    const pending = assume(account);
    cache.set(account, pending);
    pending.catch(() => {
      // A failure or a timeout is not cached: the next call tries again (the member stack may have arrived).
      if (cache.get(account) === pending) cache.delete(account);
    });
    return pending;
  }

  return { providerFor: (account) => () => credentialsFor(account) };
}
