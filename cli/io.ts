/** What the CLI's commands share: where text goes, and the error that means "you typed it wrong". */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Progress lines are drawn only on a terminal. */
  readonly interactive: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** Exit code 2, with the usage line. */
export class UsageError extends Error {
  override name = 'UsageError';
}
