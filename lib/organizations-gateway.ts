/**
 * The one module that talks to AWS Organizations, and the member list built on it: MEMBER_ACCOUNTS
 * when set, otherwise every ACTIVE account ListAccounts returns, cached for a few minutes so a burst
 * of events costs one listing. Only the management account or a delegated administrator may call
 * ListAccounts (docs/organization-mode.md, "Which accounts").
 */
import { type Account, ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { type AwsClientOptions, awsClientConfig, withDeadline } from './aws-client';
import { AutoPublishError, isPermanentAwsError } from './errors';
import type { MemberDirectory } from './member-directory';

export { fixedMembers, type MemberDirectory } from './member-directory';

/** How long a listing of the organisation's accounts is trusted. */
export const MEMBER_LIST_TTL_MS = 5 * 60_000;

/**
 * The most one listing, every page and retry included, may take. Concurrent callers share the
 * listing in flight, so it must end: a stalled one fails, leaves the cache, and the next caller lists
 * again. Well under the event handler's 30 s timeout (serverless.yml).
 */
export const MEMBER_LIST_TIMEOUT_MS = 15_000;

export class MemberListError extends AutoPublishError {
  override name = 'MemberListError';
  readonly retryable: boolean;
  constructor(cause: unknown) {
    const why = cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause);
    super(`could not list the organisation's accounts (run from the management account or a delegated administrator, or set MEMBER_ACCOUNTS): ${why}`, {
      cause,
    });
    this.retryable = !isPermanentAwsError(cause);
  }
}

export function createOrganizationsClient(options: AwsClientOptions = {}): OrganizationsClient {
  return new OrganizationsClient({ region: 'us-east-1', ...awsClientConfig(options, 5) });
}

/**
 * Whether an account is ACTIVE: by its `State`, or, when an answer has none, by `Status`, which
 * `State` replaces (docs/cloudfront-api.md#many-accounts). A SUSPENDED or closing account is not.
 */
export function isActive(account: Pick<Account, 'State' | 'Status'>): boolean {
  return (account.State ?? account.Status) === 'ACTIVE';
}

/** Every ACTIVE account, over every page (a page may be empty while NextToken is set). */
export async function listActiveAccounts(client: OrganizationsClient, abortSignal?: AbortSignal): Promise<string[]> {
  const active: string[] = [];
  let token: string | undefined;
  do {
    const page = await client.send(new ListAccountsCommand({ NextToken: token }), abortSignal ? { abortSignal } : {});
    for (const account of page.Accounts ?? []) {
      if (isActive(account) && account.Id) active.push(account.Id);
    }
    token = page.NextToken;
  } while (token);
  return active.sort();
}

/**
 * The organisation's ACTIVE accounts, listed at most once per `ttlMs` (concurrent callers share the
 * listing, which ends within `timeoutMs`). An account that joined since is picked up at the next
 * listing, not on a miss: a forged event naming an unknown account must not make us list the
 * organisation again.
 */
export function organizationMembers(client: OrganizationsClient, options: { ttlMs?: number; timeoutMs?: number; now?: () => number } = {}): MemberDirectory {
  const ttlMs = options.ttlMs ?? MEMBER_LIST_TTL_MS;
  const timeoutMs = options.timeoutMs ?? MEMBER_LIST_TIMEOUT_MS;
  const now = options.now ?? Date.now;
  let cached: { at: number; accounts: Promise<Set<string>> } | undefined;
  const members = (): Promise<Set<string>> => {
    if (cached && now() - cached.at < ttlMs) return cached.accounts;
    const entry = {
      at: now(),
      accounts: withDeadline(timeoutMs, 'ListAccounts', (signal) => listActiveAccounts(client, signal)).then(
        (accounts) => new Set(accounts),
        (error: unknown) => {
          // Neither a failure nor a timeout is cached: the next caller lists again.
          if (cached === entry) cached = undefined;
          throw new MemberListError(error);
        },
      ),
    };
    cached = entry;
    return entry.accounts;
  };
  return {
    list: async () => [...(await members())],
    isMember: async (account) => (await members()).has(account),
  };
}
