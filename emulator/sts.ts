/**
 * STS over its query protocol (what @aws-sdk/client-sts and `aws sts` send): `POST /` with a form
 * body `Action=AssumeRole&Version=2011-06-15&RoleArn=…&RoleSessionName=…[&DurationSeconds=…]`, or
 * `Action=GetCallerIdentity`. Answers are XML in STS's namespace; errors use the query error shape
 * (`ErrorResponse/Error/{Type,Code,Message}` + `RequestId`).
 *
 * AssumeRole answers AccessDenied (403) both for a role that does not exist and for one that does
 * not trust the caller, as real STS does: a caller cannot tell which. Issued credentials are ASIA…
 * keys bound to the role session in the role's account, valid for the granted duration on the
 * emulator's clock; after that any call signed with them answers ExpiredToken.
 */
import { randomBytes } from 'node:crypto';
import type { Iam, Principal } from './iam';
import { el, namespacedDocument } from './xml';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const EXPIRED_TOKEN_MESSAGE = 'The security token included in the request is expired';

export interface AssumeRoleCall {
  /** The principal that asked (user ARN or assumed-role ARN). */
  callerArn: string;
  roleArn: string;
  sessionName: string;
  /** What the caller asked for (3600 when it named no duration). */
  durationSeconds: number;
  time: Date;
  outcome: 'issued' | 'denied';
  /** Issued calls: when the credentials expire (the duration capped by the maximum session). */
  expiration?: Date;
  accessKeyId?: string;
}

export interface StsReply {
  operation: 'AssumeRole' | 'GetCallerIdentity' | 'Unknown';
  status: number;
  body: string;
}

const SESSION_NAME = /^[\w+=,.@-]*$/;
const MIN_DURATION = 900;
const MAX_DURATION = 43200;
const KEY_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

export class Sts {
  private maxSeconds = 3600;
  private readonly calls: AssumeRoleCall[] = [];

  constructor(
    private readonly iam: Iam,
    private readonly now: () => Date,
  ) {}

  /**
   * The longest session AssumeRole grants; longer requests are cut to it. Default 3600: one hour is
   * the role-chaining limit and the default MaxSessionDuration of a role.
   */
  setMaxSessionSeconds(seconds: number): void {
    if (!Number.isInteger(seconds) || seconds < MIN_DURATION || seconds > MAX_DURATION) {
      throw new RangeError(`the maximum session must be an integer of seconds in ${MIN_DURATION}-${MAX_DURATION}, got ${seconds}`);
    }
    this.maxSeconds = seconds;
  }

  get maxSessionSeconds(): number {
    return this.maxSeconds;
  }

  assumeRoleCalls(): AssumeRoleCall[] {
    return this.calls.map((c) => ({ ...c }));
  }

  clearAssumeRoleCalls(): void {
    this.calls.length = 0;
  }

  /** The operation a form body names (for the call counts), before anything is checked. */
  static operationOf(params: URLSearchParams): StsReply['operation'] {
    const action = params.get('Action');
    return action === 'AssumeRole' || action === 'GetCallerIdentity' ? action : 'Unknown';
  }

  handle(params: URLSearchParams, caller: Principal, requestId: string): StsReply {
    const operation = Sts.operationOf(params);
    if (operation === 'AssumeRole') return { operation, ...this.assumeRole(params, caller, requestId) };
    if (operation === 'GetCallerIdentity') {
      // UserId is AIDA… for a user, AROA…:session for a role session: the principal id either way.
      const result = el('GetCallerIdentityResult', el('Arn', caller.arn), el('UserId', caller.principalId), el('Account', caller.accountId));
      return { operation, status: 200, body: answer('GetCallerIdentity', result, requestId) };
    }
    const action = params.get('Action') ?? '';
    return { operation, ...stsError(400, 'InvalidAction', `Could not find operation ${action} for version 2011-06-15`, requestId) };
  }

  private assumeRole(params: URLSearchParams, caller: Principal, requestId: string): { status: number; body: string } {
    const roleArn = params.get('RoleArn');
    const sessionName = params.get('RoleSessionName');
    const rawDuration = params.get('DurationSeconds');
    const problems = validate(roleArn, sessionName, rawDuration);
    if (problems.length > 0) {
      const count = problems.length === 1 ? '1 validation error detected' : `${problems.length} validation errors detected`;
      return stsError(400, 'ValidationError', `${count}: ${problems.join('; ')}`, requestId);
    }
    const durationSeconds = rawDuration === null ? 3600 : Number(rawDuration);
    const time = this.now();
    const expiration = new Date(time.getTime() + Math.min(durationSeconds, this.maxSeconds) * 1000);
    const call = { callerArn: caller.arn, roleArn: roleArn!, sessionName: sessionName!, durationSeconds, time };
    const session = this.iam.assume(caller, roleArn!, sessionName!, expiration);
    if (!session) {
      this.calls.push({ ...call, outcome: 'denied' });
      return stsError(403, 'AccessDenied', `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`, requestId);
    }
    const accessKeyId = `ASIA${randomKey(16)}`;
    this.iam.bind(accessKeyId, session);
    this.calls.push({ ...call, outcome: 'issued', expiration, accessKeyId });
    const result = el(
      'AssumeRoleResult',
      el(
        'Credentials',
        el('AccessKeyId', accessKeyId),
        el('SecretAccessKey', randomBytes(30).toString('base64')),
        // Opaque to the caller; only its presence matters (the SDK and the CLI send it back as X-Amz-Security-Token).
        el('SessionToken', `IQoJb3JpZ2luX2VjE${randomBytes(96).toString('base64')}`),
        el('Expiration', expiration.toISOString()),
      ),
      el('AssumedRoleUser', el('AssumedRoleId', session.principalId), el('Arn', session.arn)),
    );
    return { status: 200, body: answer('AssumeRole', result, requestId) };
  }
}

/** Real STS reports every broken constraint at once, in this wording. */
function validate(roleArn: string | null, sessionName: string | null, rawDuration: string | null): string[] {
  const problems: string[] = [];
  const constraint = (value: string | null, member: string, what: string) =>
    problems.push(`Value ${value === null ? 'null' : `'${value}'`} at '${member}' failed to satisfy constraint: Member must ${what}`);
  if (roleArn === null) constraint(null, 'roleArn', 'not be null');
  else if (roleArn.length < 20) constraint(roleArn, 'roleArn', 'have length greater than or equal to 20');
  else if (roleArn.length > 2048) constraint(roleArn, 'roleArn', 'have length less than or equal to 2048');
  if (sessionName === null) constraint(null, 'roleSessionName', 'not be null');
  else if (sessionName.length < 2) constraint(sessionName, 'roleSessionName', 'have length greater than or equal to 2');
  else if (sessionName.length > 64) constraint(sessionName, 'roleSessionName', 'have length less than or equal to 64');
  else if (!SESSION_NAME.test(sessionName)) constraint(sessionName, 'roleSessionName', 'satisfy regular expression pattern: [\\w+=,.@-]*');
  if (rawDuration !== null) {
    const n = Number(rawDuration);
    if (!/^-?\d+$/.test(rawDuration)) constraint(rawDuration, 'durationSeconds', 'be an integer');
    else if (n < MIN_DURATION) constraint(rawDuration, 'durationSeconds', `have value greater than or equal to ${MIN_DURATION}`);
    else if (n > MAX_DURATION) constraint(rawDuration, 'durationSeconds', `have value less than or equal to ${MAX_DURATION}`);
  }
  return problems;
}

function answer(action: string, result: ReturnType<typeof el>, requestId: string): string {
  return namespacedDocument(STS_XMLNS, `${action}Response`, result, el('ResponseMetadata', el('RequestId', requestId)));
}

/** The query-protocol error the SDK's AwsQueryProtocol and botocore both read. */
export function stsError(status: number, code: string, message: string, requestId: string): { status: number; body: string } {
  const type = status >= 500 ? 'Receiver' : 'Sender';
  return {
    status,
    body: namespacedDocument(STS_XMLNS, 'ErrorResponse', el('Error', el('Type', type), el('Code', code), el('Message', message)), el('RequestId', requestId)),
  };
}

/** Upper-case base32 characters, as AWS access key ids use. */
function randomKey(length: number): string {
  const bytes = randomBytes(length);
  let out = '';
  for (const b of bytes) out += KEY_ALPHABET[b % KEY_ALPHABET.length];
  return out;
}
