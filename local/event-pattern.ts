/**
 * EventBridge event-pattern matching, for the operators our rule uses and the common others.
 *
 * Used by the tests (do the sample events match the deployed rule?) and by the emulator's local bus,
 * so that "matches on a laptop" means "matches in EventBridge". Semantics follow the EventBridge
 * guide: every key in the pattern must match; an array lists alternatives; an event array matches
 * when any element does; a nested object descends into the event.
 */

import { AutoPublishError } from '../lib/errors';

export type EventPattern = { [key: string]: unknown };

export class PatternError extends AutoPublishError {
  override name = 'PatternError';
  readonly retryable = false;
}

type Json = unknown;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when `event` matches `pattern`. Throws PatternError for a malformed pattern. */
export function matchesPattern(pattern: EventPattern, event: Json): boolean {
  if (!isPlainObject(pattern)) throw new PatternError('a pattern must be a JSON object');
  return matchObject(pattern, event, '');
}

function matchObject(pattern: Record<string, unknown>, event: Json, path: string): boolean {
  for (const [key, rule] of Object.entries(pattern)) {
    const here = path ? `${path}.${key}` : key;
    const present = isPlainObject(event) && Object.hasOwn(event, key);
    const value = present ? (event as Record<string, unknown>)[key] : undefined;
    if (Array.isArray(rule)) {
      if (!matchAlternatives(rule, value, present, here)) return false;
    } else if (isPlainObject(rule)) {
      if (!present || !matchObject(rule, value, here)) return false;
    } else {
      throw new PatternError(`pattern value at "${here}" must be an array or an object`);
    }
  }
  return true;
}

function matchAlternatives(rules: unknown[], value: Json, present: boolean, path: string): boolean {
  // `exists: false` is the one rule that can match an absent field.
  const values: Json[] = Array.isArray(value) ? value : [value];
  return rules.some((rule) => {
    if (isPlainObject(rule)) {
      if ('exists' in rule) {
        if (typeof rule.exists !== 'boolean') throw new PatternError(`"exists" at "${path}" must be true or false`);
        return rule.exists === (present && value !== null);
      }
      return present && values.some((v) => matchOperator(rule, v, path));
    }
    return present && values.some((v) => v === rule);
  });
}

function matchOperator(rule: Record<string, unknown>, value: Json, path: string): boolean {
  const keys = Object.keys(rule);
  if (keys.length !== 1) throw new PatternError(`operator at "${path}" must have exactly one key`);
  const op = keys[0] as string;
  const arg = rule[op];
  switch (op) {
    case 'prefix':
      return stringOperand(
        arg,
        value,
        path,
        op,
        (v, a) => v.startsWith(a),
        (v, a) => v.toLowerCase().startsWith(a.toLowerCase()),
      );
    case 'suffix':
      return stringOperand(
        arg,
        value,
        path,
        op,
        (v, a) => v.endsWith(a),
        (v, a) => v.toLowerCase().endsWith(a.toLowerCase()),
      );
    case 'equals-ignore-case':
      if (typeof arg !== 'string') throw new PatternError(`"${op}" at "${path}" needs a string`);
      return typeof value === 'string' && value.toLowerCase() === arg.toLowerCase();
    case 'wildcard':
      if (typeof arg !== 'string') throw new PatternError(`"${op}" at "${path}" needs a string`);
      return typeof value === 'string' && wildcardToRegExp(arg).test(value);
    case 'anything-but':
      return !anythingBut(arg, value, path);
    case 'numeric':
      return numeric(arg, value, path);
    default:
      throw new PatternError(`unsupported operator "${op}" at "${path}"`);
  }
}

function stringOperand(
  arg: unknown,
  value: Json,
  path: string,
  op: string,
  exact: (v: string, a: string) => boolean,
  ignoringCase: (v: string, a: string) => boolean,
): boolean {
  if (typeof value !== 'string') return false;
  if (typeof arg === 'string') return exact(value, arg);
  if (isPlainObject(arg) && typeof arg['equals-ignore-case'] === 'string') {
    return ignoringCase(value, arg['equals-ignore-case']);
  }
  throw new PatternError(`"${op}" at "${path}" needs a string`);
}

/** True when `value` is among what anything-but excludes. */
function anythingBut(arg: unknown, value: Json, path: string): boolean {
  if (Array.isArray(arg)) return arg.some((a) => a === value);
  if (isPlainObject(arg)) return matchOperator(arg, value, path);
  if (typeof arg === 'string' || typeof arg === 'number' || typeof arg === 'boolean') return arg === value;
  throw new PatternError(`"anything-but" at "${path}" has an unsupported argument`);
}

function numeric(arg: unknown, value: Json, path: string): boolean {
  if (!Array.isArray(arg) || arg.length % 2 !== 0 || arg.length === 0) {
    throw new PatternError(`"numeric" at "${path}" needs operator/number pairs`);
  }
  if (typeof value !== 'number') return false;
  for (let i = 0; i < arg.length; i += 2) {
    const op = arg[i];
    const n = arg[i + 1];
    if (typeof n !== 'number') throw new PatternError(`"numeric" at "${path}" needs numbers`);
    const ok = op === '=' ? value === n : op === '<' ? value < n : op === '<=' ? value <= n : op === '>' ? value > n : op === '>=' ? value >= n : undefined;
    if (ok === undefined) throw new PatternError(`"numeric" at "${path}" has unknown comparison "${String(op)}"`);
    if (!ok) return false;
  }
  return true;
}

function wildcardToRegExp(glob: string): RegExp {
  const escaped = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${escaped}$`, 's');
}
