/**
 * Organisation mode's sweep, fanned out: the scheduled sweep sends one message per member account,
 * and the worker sweeps the account its message names. SQS and Lambda do the distributing (and the
 * retrying: a failed account's message comes back, then goes to the dead-letter queue).
 */
import type { OrganizationConfig } from './config';
import { AutoPublishError } from './errors';
import { fixedMembers, type MemberDirectory } from './member-directory';
import type { MessageQueue } from './sqs-gateway';

/** The body of one sweep-queue message. */
export interface SweepRequest {
  readonly account: string;
  /** The daily resync: every function is a candidate (lib/sweep.ts, `full`). */
  readonly full: boolean;
}

export class BadSweepRequestError extends AutoPublishError {
  override name = 'BadSweepRequestError';
  readonly retryable = false;
}

export function parseSweepRequest(body: string): SweepRequest {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadSweepRequestError(`sweep message is not JSON (${body.length} characters)`);
  }
  const { account, full } = (parsed ?? {}) as { account?: unknown; full?: unknown };
  if (typeof account !== 'string' || !/^\d{12}$/.test(account)) {
    throw new BadSweepRequestError(`sweep message names no 12-digit account (account: ${JSON.stringify(account) ?? 'absent'})`);
  }
  if (full !== undefined && typeof full !== 'boolean') throw new BadSweepRequestError(`sweep message for ${account}: full is ${typeof full}, not a boolean`);
  return { account, full: full === true };
}

export interface FanOutSummary {
  readonly accounts: number;
  readonly full: boolean;
}

/** One message per member account. Sending only: the worker decides, account by account. */
export async function fanOutSweep(members: MemberDirectory, queue: MessageQueue<SweepRequest>, full: boolean): Promise<FanOutSummary> {
  const accounts = await members.list();
  await queue.sendAll(accounts.map((account) => ({ account, full })));
  return { accounts: accounts.length, full };
}

/**
 * The sweep worker's member list. With MEMBER_ACCOUNTS, that list: checking it costs nothing. Without
 * it, the queue's word: the sweep queue's policy (serverless.yml, SweepQueuePolicy) lets only the
 * fan-out's role and the event handler's send to it, and both send only accounts they found in the
 * organisation's listing, so a message's account was a member when it was sent, and the worker lists
 * nothing itself (one ListAccounts per fan-out, not one more per worker container). The member role's
 * trust policy still decides whether the worker gets in.
 */
export function sweepQueueMembers(org: Pick<OrganizationConfig, 'memberAccounts'>): MemberDirectory {
  if (org.memberAccounts.length > 0) return fixedMembers(org.memberAccounts);
  return {
    list: () => Promise.reject(new TypeError('the sweep worker takes its accounts from the sweep queue; it never lists the organisation')),
    isMember: async () => true,
  };
}
