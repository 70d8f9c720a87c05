/**
 * AWS Organizations over its JSON 1.1 protocol: `POST /` with `X-Amz-Target:
 * AWSOrganizationsV20161128.<Operation>` and a JSON body. Only ListAccounts is served: every account
 * of the emulator (the home account being the management account) in creation order, paged by
 * MaxResults (1-20, default 20) and an opaque NextToken, as `paginateListAccounts` and the CLI page it.
 *
 * Only the management account may list (a delegated administrator could too; not modelled). Errors
 * are HTTP 400 with `{"__type", "Message"}` and `x-amzn-ErrorType`, the JSON 1.1 shape the SDK parses.
 */
import { createHash } from 'node:crypto';
import type { AccountRegistry } from './accounts';
import type { Principal } from './iam';

export const ORGANIZATIONS_TARGET_PREFIX = 'AWSOrganizationsV20161128.';
const JSON_CONTENT_TYPE = 'application/x-amz-json-1.1';
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;
const PAGE_SIZE = 20;

export interface OrganizationsReply {
  operation: 'ListAccounts' | 'Unknown';
  status: number;
  headers: Record<string, string>;
  body: string;
}

export interface OrganizationAccount {
  Id: string;
  Arn: string;
  Email: string;
  Name: string;
  State: 'ACTIVE' | 'SUSPENDED';
  /** Being retired by AWS in favour of State; both are sent, with the same value. */
  Status: 'ACTIVE' | 'SUSPENDED';
  JoinedMethod: 'CREATED';
  /** Epoch seconds: JSON 1.1 timestamps are numbers. */
  JoinedTimestamp: number;
}

export class Organization {
  readonly id: string;

  constructor(
    private readonly accounts: AccountRegistry,
    private readonly partition: string,
    id?: string,
  ) {
    if (id !== undefined && !ORGANIZATION_ID.test(id)) throw new RangeError(`an organization id is o- and 10-32 lowercase letters or digits, got ${id}`);
    // Derived from the management account so the id is the same on every run.
    this.id = id ?? `o-${createHash('sha256').update(`organization/${accounts.home.accountId}`).digest('hex').slice(0, 10)}`;
  }

  get managementAccountId(): string {
    return this.accounts.home.accountId;
  }

  /** Every account as ListAccounts shows it, in creation order. */
  listAccounts(): OrganizationAccount[] {
    return this.accounts.all().map((a) => ({
      Id: a.accountId,
      Arn: `arn:${this.partition}:organizations::${this.managementAccountId}:account/${this.id}/${a.accountId}`,
      Email: a.email,
      Name: a.name,
      State: a.status,
      Status: a.status,
      JoinedMethod: 'CREATED',
      JoinedTimestamp: a.joined.getTime() / 1000,
    }));
  }

  /** The operation an X-Amz-Target names (for the call counts). */
  static operationOf(target: string): OrganizationsReply['operation'] {
    return target === `${ORGANIZATIONS_TARGET_PREFIX}ListAccounts` ? 'ListAccounts' : 'Unknown';
  }

  handle(target: string, body: string, caller: Principal): OrganizationsReply {
    const operation = Organization.operationOf(target);
    if (operation === 'Unknown') {
      return {
        operation,
        ...organizationsError('UnknownOperationException', `The operation ${target.slice(ORGANIZATIONS_TARGET_PREFIX.length)} is not supported.`),
      };
    }
    if (caller.accountId !== this.managementAccountId) {
      return { operation, ...organizationsError('AccessDeniedException', "You don't have permissions to access this resource.") };
    }
    let input: { MaxResults?: unknown; NextToken?: unknown };
    try {
      const parsed = body.trim() === '' ? {} : (JSON.parse(body) as unknown);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new SyntaxError('not an object');
      input = parsed as typeof input;
    } catch {
      return { operation, ...organizationsError('SerializationException', 'The request body is not a JSON object.') };
    }
    const { MaxResults: max, NextToken: token } = input;
    if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > PAGE_SIZE)) {
      const reason = typeof max === 'number' && max > PAGE_SIZE ? 'MAX_VALUE_EXCEEDED' : 'MIN_VALUE_EXCEEDED';
      return { operation, ...organizationsError('InvalidInputException', `MaxResults must be an integer from 1 to ${PAGE_SIZE}.`, { Reason: reason }) };
    }
    const all = this.listAccounts();
    let start = 0;
    if (token !== undefined && token !== null) {
      const after = typeof token === 'string' ? decodeToken(token) : undefined;
      start = after === undefined ? -1 : all.findIndex((a) => a.Id === after) + 1;
      if (start <= 0) return { operation, ...organizationsError('InvalidInputException', 'The NextToken is not valid.', { Reason: 'INVALID_NEXT_TOKEN' }) };
    }
    const size = (max as number | undefined) ?? PAGE_SIZE;
    const page = all.slice(start, start + size);
    const more = start + size < all.length;
    const out = { Accounts: page, ...(more ? { NextToken: encodeToken(page.at(-1)!.Id) } : {}) };
    return { operation, status: 200, headers: { 'Content-Type': JSON_CONTENT_TYPE }, body: JSON.stringify(out) };
  }
}

/** JSON 1.1 errors: the SDK reads the code from `__type` (or the header), botocore from either too. */
export function organizationsError(code: string, message: string, extra: Record<string, string> = {}): Omit<OrganizationsReply, 'operation'> {
  return {
    status: 400,
    headers: { 'Content-Type': JSON_CONTENT_TYPE, 'x-amzn-ErrorType': code },
    body: JSON.stringify({ __type: code, Message: message, ...extra }),
  };
}

// A token names the last account of the page just served: accounts are never removed, so it stays valid.
function encodeToken(lastId: string): string {
  return Buffer.from(`accounts-after:${lastId}`, 'utf8').toString('base64url');
}

function decodeToken(token: string): string | undefined {
  const match = /^accounts-after:(.+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return match?.[1];
}
