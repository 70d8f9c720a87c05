/**
 * Organisation mode's sweep, fanned out: the scheduled sweep sends one message per member account,
 * and the worker sweeps the account its message names. SQS and Lambda do the distributing (and the
 * retrying: a failed account's message comes back, then goes to the dead-letter queue).
 */
import { AutoPublishError } from './errors';
import type { MemberDirectory } from './organizations-gateway';
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
