// Shared setup for the organisation-mode tests: real STS, Organizations and CloudFront clients on one
// emulator, and a way to assume a role the way the reconciler will (AssumeRole, then sign with the keys).
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { OrganizationsClient } from '@aws-sdk/client-organizations';
import { CloudFrontClient } from '@aws-sdk/client-cloudfront';
import type { Emulator } from '../../emulator';

export const HOME = '111111111111';
export const MEMBER_A = '222222222222';
export const MEMBER_B = '333333333333';
export const ROLE = 'cf-autopublish-member';

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** Only the endpoint is needed, so a standalone emulator (the CLI's) works too. */
type Target = Pick<Emulator, 'endpoint'>;

const base = (emulator: Target, credentials: Keys) => ({
  endpoint: emulator.endpoint,
  region: 'us-east-1',
  credentials,
  maxAttempts: 1,
});

/** A static key: the home account's IAM user of that name unless `iam.setPrincipal` bound it elsewhere. */
export const staticKey = (accessKeyId: string): Keys => ({ accessKeyId, secretAccessKey: 'not-checked' });

export const stsFor = (emulator: Target, credentials: Keys) => new STSClient(base(emulator, credentials));
export const organizationsFor = (emulator: Target, credentials: Keys) => new OrganizationsClient(base(emulator, credentials));
export const cloudFrontFor = (emulator: Target, credentials: Keys) => new CloudFrontClient(base(emulator, credentials));

/** AssumeRole through the SDK; the issued keys (with their session token) as the SDK's credentials. */
export async function assume(
  emulator: Target,
  caller: Keys,
  roleArn: string,
  options: { sessionName?: string; durationSeconds?: number } = {},
): Promise<Keys & { arn: string }> {
  const sts = stsFor(emulator, caller);
  try {
    const out = await sts.send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: options.sessionName ?? 'reconciler',
        ...(options.durationSeconds === undefined ? {} : { DurationSeconds: options.durationSeconds }),
      }),
    );
    const c = out.Credentials!;
    return { accessKeyId: c.AccessKeyId!, secretAccessKey: c.SecretAccessKey!, sessionToken: c.SessionToken!, arn: out.AssumedRoleUser!.Arn! };
  } finally {
    sts.destroy();
  }
}

/** Member accounts A and B, each with ROLE trusting the home account's root. */
export function memberAccountsWithRoles(emulator: Emulator): void {
  for (const account of [MEMBER_A, MEMBER_B]) {
    emulator.addAccount(account, { name: `member-${account}` });
    emulator.iam.createRole({ account, roleName: ROLE, trustedPrincipalArns: [`arn:aws:iam::${HOME}:root`] });
  }
}

export const roleArnIn = (account: string, role = ROLE) => `arn:aws:iam::${account}:role/${role}`;
