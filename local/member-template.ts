/**
 * Reads the rule member/template.yml puts on each member account's default bus, so the local stack's
 * member buses run the real pattern the StackSet deploys rather than a copy that can drift.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import yaml from 'js-yaml';
import type { EventPattern } from './event-pattern';
import { cfnSchema } from './serverless-rules';

export const MEMBER_TEMPLATE = join(__dirname, '..', 'member', 'template.yml');

export interface MemberForwardingRule {
  /** The rule's logical id in the template. */
  readonly name: string;
  readonly pattern: EventPattern;
}

export function readMemberRule(path = MEMBER_TEMPLATE): MemberForwardingRule {
  const template = yaml.load(readFileSync(path, 'utf8'), { schema: cfnSchema }) as {
    Resources?: Record<string, { Type?: string; Properties?: { EventPattern?: unknown } }>;
  };
  const rules = Object.entries(template.Resources ?? {}).filter(([, r]) => r.Type === 'AWS::Events::Rule');
  if (rules.length !== 1) throw new Error(`${path}: expected one AWS::Events::Rule, found ${rules.length}`);
  const [name, rule] = rules[0]!;
  const pattern = rule.Properties?.EventPattern;
  if (typeof pattern !== 'object' || pattern === null || Array.isArray(pattern)) throw new Error(`${path}: ${name} has no EventPattern object`);
  return { name, pattern: pattern as EventPattern };
}
