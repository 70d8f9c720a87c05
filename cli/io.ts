import { AutoPublishError } from '../lib/errors';

/** What the CLI's commands share: where text goes, and the error that means "you typed it wrong". */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** Both stdout and stderr are a terminal that understands cursor moves: progress is drawn only then. */
  readonly interactive: boolean;
  /** The terminal's width, when known: a progress line is kept narrower, so it redraws cleanly. */
  readonly columns?: number;
  readonly env: NodeJS.ProcessEnv;
}

/** Exit code 2, in one line that points at the help. */
export class UsageError extends AutoPublishError {
  override name = 'UsageError';
  readonly retryable = false;
  /** The command whose help the error line points at, when known. */
  command: string | undefined;
}

/** Exit code 1: the command was well formed but could not be done (an unknown function, say). */
export class CommandError extends AutoPublishError {
  override name = 'CommandError';
  readonly retryable = false;
}
