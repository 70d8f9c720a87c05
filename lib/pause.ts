/**
 * The brake: what the pause parameter's value means. Pure, so every reading of the value is tested
 * without SSM. An operator writes `paused: <why>` (the CLI's `pause --reason`) and `active` to resume;
 * anything we cannot read as either pauses too, since publishing on a guess is the one thing a brake
 * must never do.
 */

/** Not paused, or paused with the parameter's text (the reason an operator gave). */
export type PauseState =
  | { readonly paused: false }
  | {
      readonly paused: true;
      /** The parameter's value, trimmed: what the outcome and the announcement carry. */
      readonly reason: string;
      /** The value is neither `active` nor `paused…`: paused to be safe, and a warning names it. */
      readonly unrecognised?: true;
    };

export const NOT_PAUSED: PauseState = { paused: false };
export const PAUSE_PREFIX = 'paused';
export const ACTIVE = 'active';

/** `undefined`: the parameter does not exist (ParameterNotFound), which publishes as usual. */
export function interpretPause(value: string | undefined): PauseState {
  const text = (value ?? '').trim();
  const lower = text.toLowerCase();
  if (lower === '' || lower === ACTIVE) return NOT_PAUSED;
  if (lower.startsWith(PAUSE_PREFIX)) return { paused: true, reason: text };
  return { paused: true, reason: text, unrecognised: true };
}

/** The value `cf-autopublish pause --reason TEXT` writes. */
export function pauseValue(reason: string): string {
  const text = reason.trim().replace(/\s+/g, ' ');
  return text === '' ? PAUSE_PREFIX : `${PAUSE_PREFIX}: ${text}`;
}
