/**
 * Reads the EventBridge rules the deployed stack would have, straight from serverless.yml
 * (`functions.<name>.events[].eventBridge.pattern`), so the local bus runs the real patterns rather
 * than copies that can drift. Only plain-object patterns are returned: anything still needing
 * Serverless variable resolution (`${file(...)}`, ...) cannot be evaluated offline and is skipped
 * with a reason.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { EventPattern } from './event-pattern';
import type { BusRule, RetryPolicy } from './bus';

export interface ServerlessRule {
  /** `<function>-<index>` of the eventBridge event within that function. */
  name: string;
  functionName: string;
  handler?: string;
  pattern: EventPattern;
  /** From `maximumRetryAttempts` (Lambda's async retries; its default is 2). */
  maximumRetryAttempts: number;
  /** Custom bus, when the event names one; undefined = the default bus. */
  eventBus?: string;
}

export interface ServerlessRulesResult {
  rules: ServerlessRule[];
  /** eventBridge events that could not be turned into a rule, and why. */
  skipped: Array<{ functionName: string; index: number; reason: string }>;
}

// CloudFormation short-form tags (!Sub, !GetAtt, ...) would make plain js-yaml throw; they load as
// the long form CloudFormation would see (`!Ref X` → {Ref: X}, `!GetAtt A.B` → {Fn::GetAtt: [A, B]}).
const CFN_TAGS = [
  'Ref',
  'Sub',
  'GetAtt',
  'Join',
  'If',
  'Equals',
  'Not',
  'And',
  'Or',
  'Select',
  'Split',
  'FindInMap',
  'ImportValue',
  'GetAZs',
  'Base64',
  'Condition',
  'Cidr',
];
export const cfnSchema = yaml.DEFAULT_SCHEMA.extend(
  CFN_TAGS.flatMap((tag) =>
    (['scalar', 'sequence', 'mapping'] as const).map(
      (kind) =>
        new yaml.Type(`!${tag}`, {
          kind,
          construct: (data: unknown) => {
            if (tag === 'Ref' || tag === 'Condition') return { [tag]: data };
            if (tag === 'GetAtt' && typeof data === 'string') return { 'Fn::GetAtt': data.split('.') };
            return { [`Fn::${tag}`]: data };
          },
        }),
    ),
  ),
);

/** serverless.yml as written (variables unresolved): the one reader for everything that needs it. */
export function readServerlessConfig(path = SERVERLESS_YML): Record<string, unknown> {
  const doc = yaml.load(readFileSync(path, 'utf8'), { schema: cfnSchema });
  if (!isObject(doc)) throw new Error(`${path} is not a YAML mapping`);
  return doc;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseServerlessRules(source: string): ServerlessRulesResult {
  return rulesOf(yaml.load(source, { schema: cfnSchema }));
}

function rulesOf(doc: unknown): ServerlessRulesResult {
  const rules: ServerlessRule[] = [];
  const skipped: ServerlessRulesResult['skipped'] = [];
  const functions = isObject(doc) && isObject(doc.functions) ? doc.functions : {};
  for (const [functionName, fn] of Object.entries(functions)) {
    if (!isObject(fn) || !Array.isArray(fn.events)) continue;
    const retries = typeof fn.maximumRetryAttempts === 'number' ? fn.maximumRetryAttempts : 2;
    fn.events.forEach((event: unknown, index: number) => {
      if (!isObject(event) || !('eventBridge' in event)) return;
      const bridge = event.eventBridge;
      if (!isObject(bridge)) {
        skipped.push({ functionName, index, reason: 'eventBridge is not an object' });
        return;
      }
      if (!isObject(bridge.pattern)) {
        skipped.push({ functionName, index, reason: bridge.schedule ? 'schedule, not a pattern' : 'pattern missing or not a literal object' });
        return;
      }
      rules.push({
        name: `${functionName}-${index}`,
        functionName,
        ...(typeof fn.handler === 'string' ? { handler: fn.handler } : {}),
        pattern: bridge.pattern as EventPattern,
        maximumRetryAttempts: retries,
        ...(typeof bridge.eventBus === 'string' ? { eventBus: bridge.eventBus } : {}),
      });
    });
  }
  return { rules, skipped };
}

/** This package's serverless.yml, found from this module rather than the working directory. */
export const SERVERLESS_YML = join(__dirname, '..', 'serverless.yml');

export function readServerlessRules(path = SERVERLESS_YML): ServerlessRulesResult {
  return rulesOf(readServerlessConfig(path));
}

/**
 * Bus rules for the functions given a target; the Lambda retry count comes from serverless.yml.
 * Functions without a target are left out, so a test can wire just the handler it exercises.
 */
export function busRulesFromServerless(result: ServerlessRulesResult, targets: Record<string, BusRule['target']>, retryDelayMs = 10): BusRule[] {
  return result.rules
    .filter((r) => targets[r.functionName])
    .map((r) => {
      const retry: RetryPolicy = { maxRetries: r.maximumRetryAttempts, delayMs: retryDelayMs };
      return { name: r.name, pattern: r.pattern, target: targets[r.functionName]!, retry };
    });
}
