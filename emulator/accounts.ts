/**
 * The accounts one emulator serves. The account named by the `accountId` option is the home
 * (management) account and always exists; member accounts are added by the control API. Each account
 * has its own CloudFront state (a CloudFrontModel: functions, ETags, tags, distributions), its own
 * token bucket and its own call counts, because CloudFront's quotas and throttling are per account:
 * a reconciler busy in one member must not slow another down. S3, latency and faults stay global.
 *
 * Settings the emulator's top-level controls change (variants, quotas, the rate limit) apply to every
 * account, present and future; an account's own controls override them for that account alone.
 */
import { CloudFrontModel, type ModelOptions } from './model';
import { TokenBucket, type RateLimit } from './faults';
import { resolveVariants, type Variants } from './variants';

export type AccountStatus = 'ACTIVE' | 'SUSPENDED';
export const ACCOUNT_STATUSES: readonly AccountStatus[] = ['ACTIVE', 'SUSPENDED'];

export interface AddAccountOptions {
  name?: string;
  email?: string;
  state?: AccountStatus;
}

/** The model settings the top-level controls set for every account. */
export type SharedModelSettings = Partial<Pick<ModelOptions, 'functionQuota' | 'maxCodeBytes' | 'noopPublishPreconditionFailed'>>;

const ACCOUNT_ID = /^\d{12}$/;

export function isAccountId(value: string): boolean {
  return ACCOUNT_ID.test(value);
}

export class Account {
  name: string;
  email: string;
  status: AccountStatus;
  /** When the account joined the organisation (Organizations' JoinedTimestamp). */
  readonly joined: Date;
  /** CloudFront requests received per operation in this account (STS, Organizations and S3 excluded). */
  readonly counts = new Map<string, number>();
  private bucket: TokenBucket | undefined;

  constructor(
    readonly accountId: string,
    readonly model: CloudFrontModel,
    info: { name: string; email: string; status: AccountStatus; joined: Date },
  ) {
    this.name = info.name;
    this.email = info.email;
    this.status = info.status;
    this.joined = info.joined;
  }

  /** A fresh bucket, full: a new limit starts from its burst. Throws RangeError on a bad limit. */
  setRateLimit(limit: RateLimit | undefined): void {
    this.bucket = limit ? new TokenBucket(limit) : undefined;
  }

  /** Takes one token; false = throttled. Always true without a rate limit. */
  tryTake(): boolean {
    return this.bucket ? this.bucket.tryTake() : true;
  }

  count(operation: string): void {
    this.counts.set(operation, (this.counts.get(operation) ?? 0) + 1);
  }

  setStatus(status: AccountStatus): void {
    if (!ACCOUNT_STATUSES.includes(status)) throw new RangeError(`account state must be ACTIVE or SUSPENDED, got ${String(status)}`);
    this.status = status;
  }
}

export class AccountRegistry {
  readonly home: Account;
  /** Insertion order is creation order, the home account first. */
  private readonly byId = new Map<string, Account>();
  /** What a new account's model starts with: the options, as changed by the top-level controls since. */
  private readonly defaults: ModelOptions;
  private rateLimit: RateLimit | undefined;
  private readonly now: () => Date;

  constructor(options: ModelOptions & { rateLimit?: RateLimit | undefined } = {}) {
    const { rateLimit, ...modelOptions } = options;
    // Resolved once so a bad variant fails here, as it did when the server built its one model.
    this.defaults = { ...modelOptions, variants: resolveVariants(modelOptions.variants) };
    this.now = options.now ?? (() => new Date());
    if (rateLimit) new TokenBucket(rateLimit);
    this.rateLimit = rateLimit;
    // The home account id is not validated: the single-account emulator never did, and keeps working.
    this.home = this.create(options.accountId ?? '123456789012', {});
  }

  add(accountId: string, options: AddAccountOptions = {}): Account {
    if (typeof accountId !== 'string' || !isAccountId(accountId)) throw new RangeError(`an account id is 12 digits, got ${JSON.stringify(accountId)}`);
    if (this.byId.has(accountId)) throw new RangeError(`account ${accountId} already exists`);
    if (options.state !== undefined && !ACCOUNT_STATUSES.includes(options.state)) {
      throw new RangeError(`account state must be ACTIVE or SUSPENDED, got ${String(options.state)}`);
    }
    return this.create(accountId, options);
  }

  /** Throws RangeError for an account the emulator does not serve. */
  get(accountId: string): Account {
    const account = this.byId.get(accountId);
    if (!account) throw new RangeError(`unknown account ${accountId}`);
    return account;
  }

  find(accountId: string): Account | undefined {
    return this.byId.get(accountId);
  }

  has(accountId: string): boolean {
    return this.byId.has(accountId);
  }

  all(): Account[] {
    return [...this.byId.values()];
  }

  ids(): string[] {
    return [...this.byId.keys()];
  }

  /** The same limit for every account, each with its own bucket; also the limit of accounts added later. */
  setRateLimit(limit: RateLimit | undefined): void {
    if (limit) new TokenBucket(limit); // validate before touching any account
    this.rateLimit = limit;
    for (const account of this.byId.values()) account.setRateLimit(limit);
  }

  /** Applies `variants` on top of every account's own, and to the accounts added later. Returns the home account's. */
  setVariants(variants: Partial<Variants>): Variants {
    // Validated as a whole first, so a bad value leaves every account as it was.
    this.defaults.variants = resolveVariants({ ...this.defaults.variants, ...variants });
    for (const account of this.byId.values()) account.model.setVariants(variants);
    return this.home.model.variants;
  }

  configure(settings: SharedModelSettings): void {
    Object.assign(this.defaults, settings);
    for (const account of this.byId.values()) Object.assign(account.model, settings);
  }

  private create(accountId: string, options: AddAccountOptions): Account {
    const model = new CloudFrontModel({ ...this.defaults, accountId });
    const account = new Account(accountId, model, {
      name: options.name ?? `account-${accountId}`,
      email: options.email ?? `account-${accountId}@example.com`,
      status: options.state ?? 'ACTIVE',
      joined: this.now(),
    });
    account.setRateLimit(this.rateLimit);
    this.byId.set(accountId, account);
    return account;
  }
}
