/**
 * Organisation mode's member list, as every part of it asks: MEMBER_ACCOUNTS when set (here), or the
 * organisation's ACTIVE accounts (lib/organizations-gateway.ts). Apart from the Organizations client,
 * so that a fixed list never loads it (lib/runtime.ts loads client modules only when used).
 */
export interface MemberDirectory {
  /** The member accounts, sorted. */
  list(): Promise<readonly string[]>;
  isMember(account: string): Promise<boolean>;
}

export function fixedMembers(accounts: readonly string[]): MemberDirectory {
  const sorted = [...accounts].sort();
  const set = new Set(sorted);
  return { list: async () => sorted, isMember: async (account) => set.has(account) };
}
