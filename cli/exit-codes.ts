/** The CLI's exit codes, a contract for scripts and CI (docs/cli-contract.md). */
export const EXIT = {
  /** Done; what was asked about is in sync. */
  ok: 0,
  /** An error: the command could not be done (or a sweep had failures). */
  error: 1,
  /** Bad usage: an unknown option or command, a stray argument, a bad value. */
  usage: 2,
  /** `reconcile`, `test` or `wait`: the publish gate blocks the version. */
  blocked: 3,
  /** `status --check`: an opted-in function is not in sync. */
  outOfSync: 4,
} as const;
