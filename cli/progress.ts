/**
 * The sweep's progress on a terminal: one line on stderr, redrawn in place as outcomes arrive
 * (candidates done of total, publishes, blocked, failures). Off unless the caller says the output is
 * a terminal and no --json was asked for: a pipe, a log file or a JSON reader gets no progress noise.
 */
import type { Outcome } from '../lib/reconcile';
import type { Io } from './io';

/** Cursor up one line, then erase it: the line `io.err` drew last (it ends each line with a newline). */
export const REDRAW = '\x1b[1A\x1b[2K';

export type OnOutcome = (outcome: Outcome, done: number, total: number) => void;

export function sweepProgress(io: Io, options: { readonly enabled: boolean; readonly dryRun: boolean }): OnOutcome | undefined {
  if (!options.enabled) return undefined;
  let published = 0;
  let blocked = 0;
  let failed = 0;
  let drawn = false;
  return (outcome, done, total) => {
    if (outcome.action === 'published' || outcome.action === 'would-publish') published++;
    else if (outcome.action === 'blocked') blocked++;
    else if (outcome.action === 'failed') failed++;
    const line = `sweep: ${done}/${total} candidates, ${published} ${options.dryRun ? 'would publish' : 'published'}, ${blocked} blocked, ${failed} failed`;
    // A line wider than the terminal would wrap, and going up one line would no longer erase all of it.
    const fitted = io.columns && line.length >= io.columns ? `${line.slice(0, Math.max(0, io.columns - 2))}…` : line;
    io.err(`${drawn ? REDRAW : ''}${fitted}`);
    drawn = true;
  };
}
