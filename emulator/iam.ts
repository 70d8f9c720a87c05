/**
 * Who is calling: the principal behind each access key, and the IAM roles STS may hand out sessions
 * for. Only what multi-account calls need is modelled: users and role sessions (with the account they
 * belong to), roles with a trust list. There are no identity policies: whether a principal may call
 * CloudFront is the authorizer's business (EmulatorControls.setAuthorizer), and a cross-account trust
 * by `:root` is taken as granted, as if the caller's account allowed sts:AssumeRole.
 *
 * Keys nobody bound belong to an IAM user of the home account, named after the key (or its actor):
 * the single-account emulator's behaviour.
 */
export interface UserPrincipal {
  kind: 'user';
  accountId: string;
  /** arn:aws:iam::<account>:user/<name> */
  arn: string;
  userName: string;
  /** AIDA…, stable per user. */
  principalId: string;
}

/** A role session: issued by AssumeRole, or a static key bound to a role (a Lambda's own credentials). */
export interface SessionPrincipal {
  kind: 'session';
  accountId: string;
  /** arn:aws:sts::<account>:assumed-role/<role>/<session> */
  arn: string;
  roleArn: string;
  roleName: string;
  /** AROA…, stable per role. */
  roleId: string;
  sessionName: string;
  /** `<roleId>:<sessionName>`, what STS calls the AssumedRoleId and CloudTrail the principalId. */
  principalId: string;
  issuedAt: Date;
  /** Undefined for a static key bound to a role: it never expires. */
  expiresAt?: Date;
}

export type Principal = UserPrincipal | SessionPrincipal;

export interface RoleInput {
  account: string;
  roleName: string;
  /** Exact principal ARNs, or `arn:aws:iam::<account>:root` for any principal of that account. */
  trustedPrincipalArns: string[];
}

export interface RoleView {
  arn: string;
  trustedPrincipalArns: string[];
}

interface Role {
  arn: string;
  accountId: string;
  roleName: string;
  roleId: string;
  trusted: string[];
}

// IAM's name rules: users and roles alike.
const ROLE_NAME = /^[\w+=,.@-]{1,64}$/;
const PRINCIPAL_ARN = /^arn:([a-z-]+):(iam|sts)::(\d{12}):(.+)$/;
const ROLE_ARN = /^arn:([a-z-]+):iam::(\d{12}):role\/(?:[\w+=,.@/-]*\/)?([\w+=,.@-]{1,64})$/;

export class Iam {
  private readonly keys = new Map<string, Principal>();
  private readonly roleMap = new Map<string, Role>();

  constructor(
    private readonly partition: string,
    private readonly accountExists: (accountId: string) => boolean,
    private readonly now: () => Date,
  ) {}

  /**
   * Binds a static access key to `arn:…:iam::<acct>:user/<name>`, `arn:…:iam::<acct>:role/<name>` (a
   * session named after the key that never expires) or `arn:…:sts::<acct>:assumed-role/<role>/<session>`.
   * The key's calls then land in that account. RangeError for another ARN or an account not served.
   */
  setPrincipal(accessKeyId: string, principalArn: string): Principal {
    if (!accessKeyId) throw new RangeError('an access key id is required');
    const match = PRINCIPAL_ARN.exec(principalArn);
    if (!match || match[1] !== this.partition) throw new RangeError(`not a user or role ARN of partition ${this.partition}: ${principalArn}`);
    const [, , service, accountId, resource] = match as unknown as [string, string, string, string, string];
    if (!this.accountExists(accountId)) throw new RangeError(`account ${accountId} is not served by this emulator (addAccount first)`);
    const [type, ...path] = resource.split('/');
    const name = path.at(-1) ?? '';
    let principal: Principal;
    if (service === 'iam' && type === 'user' && ROLE_NAME.test(name)) {
      principal = this.user(accountId, name, principalArn);
    } else if (service === 'iam' && type === 'role' && ROLE_NAME.test(name)) {
      principal = this.session(principalArn, accountId, name, accessKeyId);
    } else if (service === 'sts' && type === 'assumed-role' && path.length === 2 && ROLE_NAME.test(path[0]!) && ROLE_NAME.test(name)) {
      principal = this.session(`arn:${this.partition}:iam::${accountId}:role/${path[0]}`, accountId, path[0]!, name);
    } else {
      throw new RangeError(`not a user, role or assumed-role ARN: ${principalArn}`);
    }
    this.keys.set(accessKeyId, principal);
    return principal;
  }

  /** The principal bound to a key (static or issued), undefined for a key nobody bound. */
  principalOf(accessKeyId: string): Principal | undefined {
    return this.keys.get(accessKeyId);
  }

  /** The IAM user of `accountId` named `userName` (not bound to any key). */
  user(accountId: string, userName: string, arn = `arn:${this.partition}:iam::${accountId}:user/${userName}`): UserPrincipal {
    return { kind: 'user', accountId, arn, userName, principalId: principalIdFor(userName) };
  }

  /** Whether a key's session has run out (static keys never do). */
  isExpired(principal: Principal): boolean {
    return principal.kind === 'session' && principal.expiresAt !== undefined && this.now().getTime() >= principal.expiresAt.getTime();
  }

  createRole(input: RoleInput): RoleView {
    const { account, roleName, trustedPrincipalArns } = input;
    if (!this.accountExists(account)) throw new RangeError(`account ${account} is not served by this emulator (addAccount first)`);
    if (!ROLE_NAME.test(roleName)) throw new RangeError(`invalid role name ${JSON.stringify(roleName)}: 1-64 of [\\w+=,.@-]`);
    if (!Array.isArray(trustedPrincipalArns)) throw new RangeError('trustedPrincipalArns must be an array of ARNs');
    for (const arn of trustedPrincipalArns) {
      if (typeof arn !== 'string' || !PRINCIPAL_ARN.test(arn)) throw new RangeError(`not a principal ARN: ${String(arn)}`);
    }
    const arn = roleArn(this.partition, account, roleName);
    if (this.roleMap.has(arn)) throw new RangeError(`role ${arn} already exists`);
    this.roleMap.set(arn, { arn, accountId: account, roleName, roleId: roleIdFor(arn), trusted: [...trustedPrincipalArns] });
    return { arn, trustedPrincipalArns: [...trustedPrincipalArns] };
  }

  /** Sessions already issued for the role keep working until they expire. */
  deleteRole(account: string, roleName: string): void {
    const arn = roleArn(this.partition, account, roleName);
    if (!this.roleMap.delete(arn)) throw new RangeError(`no role ${arn}`);
  }

  roles(): RoleView[] {
    return [...this.roleMap.values()].map((r) => ({ arn: r.arn, trustedPrincipalArns: [...r.trusted] }));
  }

  /**
   * The session `caller` gets for `roleArnValue`, or undefined when the role does not exist or does
   * not trust the caller (STS answers both with the same AccessDenied). A trust entry matches the
   * caller's own ARN, its account's `:root`, or, for a session, the role it is a session of.
   */
  assume(caller: Principal, roleArnValue: string, sessionName: string, expiresAt: Date): SessionPrincipal | undefined {
    const match = ROLE_ARN.exec(roleArnValue);
    // Roles are keyed by their path-less ARN: the emulator's roles have no path.
    const role = match ? this.roleMap.get(roleArn(match[1]!, match[2]!, match[3]!)) : undefined;
    if (!role) return undefined;
    const callerArns = [caller.arn, `arn:${this.partition}:iam::${caller.accountId}:root`];
    if (caller.kind === 'session') callerArns.push(caller.roleArn);
    if (!role.trusted.some((t) => callerArns.includes(t))) return undefined;
    return { ...this.session(role.arn, role.accountId, role.roleName, sessionName), expiresAt };
  }

  /** Records the key STS issued for a session. */
  bind(accessKeyId: string, principal: Principal): void {
    this.keys.set(accessKeyId, principal);
  }

  private session(roleArnValue: string, accountId: string, roleName: string, sessionName: string): SessionPrincipal {
    const roleId = roleIdFor(roleArnValue);
    return {
      kind: 'session',
      accountId,
      arn: `arn:${this.partition}:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
      roleArn: roleArnValue,
      roleName,
      roleId,
      sessionName,
      principalId: `${roleId}:${sessionName}`,
      issuedAt: this.now(),
    };
  }
}

export function roleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role/${roleName}`;
}

function hash(value: string): number {
  let h = 2166136261;
  for (const ch of value) h = Math.imul(h ^ ch.codePointAt(0)!, 16777619) >>> 0;
  return h;
}

/** A stable, IAM-looking principal id per user name, so records of one actor agree with each other. */
export function principalIdFor(actor: string): string {
  return `AIDA${hash(actor).toString(36).toUpperCase().padStart(8, '0')}EMULATOR`;
}

/** A stable AROA… id per role ARN, shaped like the AIDA… ids above. */
function roleIdFor(arn: string): string {
  return `AROA${hash(arn).toString(36).toUpperCase().padStart(8, '0')}EMULATOR`;
}
