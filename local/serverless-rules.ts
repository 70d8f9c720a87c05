/**
 * Reads the EventBridge rules the deployed stack would have, straight from serverless.yml
 * (`functions.<name>.events[].eventBridge.pattern`), so the local bus runs the real patterns rather
 * than copies that can drift. serverless.yml picks what each mode deploys with Serverless variables
 * (`${param:organizationMode}`, `${self:…}`): a small resolver here evaluates `${param:x}`,
 * `${self:a.b}`, `${sls:stage}` and `${opt:x, 'fallback'}` in what it reads, from the options given
 * (by default, what `serverless package` without flags would use), and merges `functions` given as a
 * list the way osls does. Only plain-object patterns are returned: anything still needing another
 * variable source (`${file(...)}`, `${env:…}`, ...) cannot be evaluated offline and is skipped with a
 * reason.
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
  /**
   * Custom bus, when the event names one; undefined = the default bus. A bus of the stack itself
   * (`!GetAtt X.Name`, `!Ref X`: organisation mode's central bus) is given by the `Name` it deploys
   * with (`cloudfront-autopublish-<stage>`), or by its logical id when that cannot be resolved.
   */
  eventBus?: string;
}

/** What `serverless package` would be given: the params, stage and options that pick what deploys. */
export interface ServerlessReadOptions {
  /** `--param=k=v`: over serverless.yml's `params.<stage>` and `params.default`. */
  params?: Readonly<Record<string, string>>;
  /** Shorthand for `params.organizationMode` ("true" / "false"); wins over `params`. */
  organizationMode?: boolean;
  /** `--stage` (serverless.yml's default when absent). */
  stage?: string;
  /** Other CLI options, for `${opt:x}` (`--region`, ...). */
  options?: Readonly<Record<string, string>>;
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

/** A CloudFormation (or Serverless) YAML document, short-form tags as their long form. */
export function loadCloudFormationYaml(source: string): unknown {
  return yaml.load(source, { schema: cfnSchema });
}

/** serverless.yml as written (variables unresolved): the one reader for everything that needs it. */
export function readServerlessConfig(path = SERVERLESS_YML): Record<string, unknown> {
  const doc = loadCloudFormationYaml(readFileSync(path, 'utf8'));
  if (!isObject(doc)) throw new Error(`${path} is not a YAML mapping`);
  return doc;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function parseServerlessRules(source: string, options: ServerlessReadOptions = {}): ServerlessRulesResult {
  return rulesOf(loadCloudFormationYaml(source), options);
}

function rulesOf(doc: unknown, options: ServerlessReadOptions): ServerlessRulesResult {
  const rules: ServerlessRule[] = [];
  const skipped: ServerlessRulesResult['skipped'] = [];
  if (!isObject(doc)) return { rules, skipped };
  const vars = new Variables(doc, options);
  for (const [functionName, fn] of Object.entries(vars.mergedList(doc.functions))) {
    if (!isObject(fn)) continue;
    const events = vars.tryShallow(fn.events);
    if (!Array.isArray(events)) continue;
    const retriesValue = vars.tryResolve(fn.maximumRetryAttempts);
    const retries = typeof retriesValue === 'number' ? retriesValue : 2;
    const handler = vars.tryResolve(fn.handler);
    events.forEach((rawEvent: unknown, index: number) => {
      const event = vars.tryShallow(rawEvent);
      if (!isObject(event) || !('eventBridge' in event)) return;
      const bridge = vars.tryShallow(event.eventBridge);
      if (!isObject(bridge)) {
        skipped.push({ functionName, index, reason: 'eventBridge is not an object' });
        return;
      }
      const pattern = vars.tryResolve(bridge.pattern);
      if (!isObject(pattern) || containsVariable(pattern)) {
        skipped.push({ functionName, index, reason: bridge.schedule ? 'schedule, not a pattern' : 'pattern missing or not a literal object' });
        return;
      }
      const eventBus = busName(vars, vars.tryResolve(bridge.eventBus));
      if (eventBus?.includes('${')) {
        skipped.push({ functionName, index, reason: `eventBus ${eventBus} cannot be resolved offline` });
        return;
      }
      rules.push({
        name: `${functionName}-${index}`,
        functionName,
        ...(typeof handler === 'string' ? { handler } : {}),
        pattern: pattern as EventPattern,
        maximumRetryAttempts: retries,
        ...(eventBus !== undefined ? { eventBus } : {}),
      });
    });
  }
  return { rules, skipped };
}

/** The bus an eventBridge event names, as osls reads it; undefined = the default bus. */
function busName(vars: Variables, value: unknown): string | undefined {
  if (typeof value === 'string') {
    if (value === 'default') return undefined; // osls writes no EventBusName for it
    return value.startsWith('arn:') ? value.slice(value.indexOf('/') + 1) : value;
  }
  if (!isObject(value)) return undefined;
  const getAtt = value['Fn::GetAtt'];
  const logicalId = typeof value.Ref === 'string' ? value.Ref : Array.isArray(getAtt) && getAtt[1] === 'Name' ? getAtt[0] : undefined;
  if (typeof logicalId !== 'string') return undefined;
  const resource = vars.resource(logicalId);
  const name = isObject(resource) && isObject(resource.Properties) ? vars.tryResolve(resource.Properties.Name) : undefined;
  return typeof name === 'string' && !name.includes('${') ? name : logicalId;
}

function containsVariable(value: unknown): boolean {
  return JSON.stringify(value).includes('${');
}

class Unresolvable extends Error {}

/**
 * The Serverless variables serverless.yml uses where the readers look, resolved offline: `${param:x}`,
 * `${self:a.b.0.c}`, `${sls:stage}`, `${opt:x}`, each with an optional `, fallback`, nested
 * (`${self:a.${param:b}}`). A string that is one variable becomes that variable's value (an object,
 * say); variables inside a longer string are spliced in as text. Any other source throws Unresolvable,
 * and so do a missing value without fallback and a self-reference loop. CloudFormation's own
 * `${AWS::Region}` and `${Resource.Attr}` (no Serverless source) are left as they are.
 */
class Variables {
  private readonly params: Record<string, string>;
  private readonly resolving = new Set<string>();

  constructor(
    private readonly doc: Record<string, unknown>,
    private readonly options: ServerlessReadOptions,
  ) {
    this.params = {};
    const stage = this.stage();
    const fromFile = (key: string) => {
      const params = isObject(doc.params) ? doc.params[key] : undefined;
      return isObject(params) ? params : {};
    };
    for (const [k, v] of Object.entries({ ...fromFile('default'), ...fromFile(stage) })) this.params[k] = String(v);
    Object.assign(this.params, options.params);
    if (options.organizationMode !== undefined) this.params.organizationMode = String(options.organizationMode);
  }

  /** The value with its variables resolved, or the value as written when any cannot be. */
  tryResolve(value: unknown): unknown {
    return this.attempt(value, () => this.resolve(value));
  }

  /**
   * The value a variable stands for, its own variables left as written (so that a map is usable
   * when only some of its values could be resolved); any other value as it is.
   */
  tryShallow(value: unknown): unknown {
    return this.attempt(value, () => this.resolve(value, 0, true));
  }

  private attempt(value: unknown, resolve: () => unknown): unknown {
    try {
      return resolve();
    } catch (error) {
      if (error instanceof Unresolvable) return value;
      throw error;
    }
  }

  /** A list of maps (or one map) merged the way osls merges `functions` and `resources` lists. */
  mergedList(value: unknown): Record<string, unknown> {
    const resolved = this.tryShallow(value);
    const items = Array.isArray(resolved) ? resolved.map((item) => this.tryShallow(item)) : [resolved];
    return items.filter(isObject).reduce<Record<string, unknown>>((merged, item) => mergeObjects(merged, item), {});
  }

  /** `resources.Resources.<logicalId>` of the merged resources, as written. */
  resource(logicalId: string): unknown {
    const resources = this.mergedList(this.doc.resources).Resources;
    return isObject(resources) ? resources[logicalId] : undefined;
  }

  resolve(value: unknown, depth = 0, shallow = false): unknown {
    if (depth > 50) throw new Unresolvable('too deep');
    if (typeof value === 'string') return this.resolveString(value, depth, shallow);
    if (shallow) return value;
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, depth + 1));
    if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.resolve(v, depth + 1)]));
    return value;
  }

  private resolveString(text: string, depth: number, shallow = false): unknown {
    const parts = splitVariables(text);
    if (parts.length === 1 && typeof parts[0] !== 'string') return this.evaluate(parts[0]!.inner, depth, shallow);
    let out = '';
    for (const part of parts) {
      if (typeof part === 'string') {
        out += part;
        continue;
      }
      const value = this.evaluate(part.inner, depth);
      if (typeof value === 'object' && value !== null) throw new Unresolvable(`\${${part.inner}} is not text inside "${text}"`);
      out += String(value);
    }
    return out;
  }

  private evaluate(rawInner: string, depth: number, shallow = false): unknown {
    const source = /^\s*(\w+):/.exec(rawInner)?.[1];
    if (source === undefined || !['param', 'self', 'sls', 'opt'].includes(source)) {
      // CloudFormation's `${AWS::Region}` and `${Resource.Attr}` are no Serverless variables.
      if (/^[\w.:]+$/.test(rawInner) && (rawInner.startsWith('AWS::') || !rawInner.includes(':'))) return `\${${rawInner}}`;
      throw new Unresolvable(`\${${rawInner}}`);
    }
    const inner = this.resolveString(rawInner, depth + 1);
    if (typeof inner !== 'string') throw new Unresolvable(`\${${rawInner}}`);
    const [reference, ...fallbacks] = splitTopLevel(inner, ',');
    const address = reference!.slice(reference!.indexOf(':') + 1).trim();
    const found = this.lookUp(source, address, depth, shallow);
    if (found !== undefined && found !== null) return found;
    const fallback = fallbacks.join(',').trim();
    if (fallback === '') throw new Unresolvable(`no value for \${${inner}}`);
    const quoted = /^(['"])(.*)\1$/.exec(fallback);
    if (quoted) return quoted[2];
    if (/^-?\d+(\.\d+)?$/.test(fallback)) return Number(fallback);
    if (fallback === 'true' || fallback === 'false') return fallback === 'true';
    return this.resolveString(fallback, depth + 1);
  }

  private lookUp(source: string, address: string, depth: number, shallow: boolean): unknown {
    switch (source) {
      case 'param':
        return this.params[address];
      case 'opt':
        return address === 'stage' ? this.options.stage : this.options.options?.[address];
      case 'sls':
        if (address === 'stage') return this.stage();
        throw new Unresolvable(`\${sls:${address}}`);
      default: {
        if (this.resolving.has(address)) throw new Unresolvable(`\${self:${address}} refers to itself`);
        let node: unknown = this.doc;
        for (const key of address === '' ? [] : address.split('.')) {
          // Only what the path goes through: a string on the way may be a variable holding a map.
          if (typeof node === 'string') node = this.resolve(node, depth + 1, true);
          if (Array.isArray(node) && /^\d+$/.test(key)) node = node[Number(key)];
          else if (isObject(node)) node = node[key];
          else return undefined;
        }
        this.resolving.add(address);
        try {
          return this.resolve(node, depth + 1, shallow);
        } finally {
          this.resolving.delete(address);
        }
      }
    }
  }

  private stage(): string {
    if (this.options.stage !== undefined) return this.options.stage;
    // provider.stage is `${opt:stage, 'dev'}`: without options.stage, its fallback.
    const provider = isObject(this.doc.provider) ? this.doc.provider : {};
    const stage = provider.stage === undefined ? 'dev' : this.tryResolve(provider.stage);
    return typeof stage === 'string' && !stage.includes('${') ? stage : 'dev';
  }
}

type Part = string | { inner: string };

/** `a${x}b${y.${z}}` → ['a', {inner: 'x'}, 'b', {inner: 'y.${z}'}]: top-level `${…}`, braces balanced. */
function splitVariables(text: string): Part[] {
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('${', i)) {
      let depth = 1;
      let j = i + 2;
      for (; j < text.length && depth > 0; j++) {
        if (text.startsWith('${', j)) {
          depth++;
          j++;
        } else if (text[j] === '}') depth--;
      }
      if (depth > 0) break; // unbalanced: the rest is text
      if (literal) parts.push(literal);
      literal = '';
      parts.push({ inner: text.slice(i + 2, j - 1) });
      i = j;
    } else {
      literal += text[i++];
    }
  }
  literal += text.slice(i);
  if (literal || parts.length === 0) parts.push(literal);
  return parts;
}

/** Splits on `separator` outside quotes. */
function splitTopLevel(text: string, separator: string): string[] {
  const out: string[] = [];
  let current = '';
  let quote: string | undefined;
  for (const ch of text) {
    if (quote) {
      if (ch === quote) quote = undefined;
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === separator) {
      out.push(current);
      current = '';
      continue;
    }
    current += ch;
  }
  out.push(current);
  return out;
}

/** osls's merge of a `functions` or `resources` list: maps merged key by key, lists index by index. */
function mergeObjects(target: Record<string, unknown>, source: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...target };
  for (const [key, value] of Object.entries(source)) {
    if (value === undefined) continue;
    out[key] = mergeValues(out[key], value);
  }
  return out;
}

function mergeValues(target: unknown, source: unknown): unknown {
  if (isObject(target) && isObject(source)) return mergeObjects(target, source);
  if (Array.isArray(target) && Array.isArray(source)) {
    const out = [...target];
    source.forEach((value, i) => {
      if (value !== undefined) out[i] = mergeValues(out[i], value);
    });
    return out;
  }
  return source;
}

/** This package's serverless.yml, found from this module rather than the working directory. */
export const SERVERLESS_YML = join(__dirname, '..', 'serverless.yml');

/**
 * The eventBridge rules of serverless.yml as `serverless package` would deploy them with these
 * options: by default single-account mode (the default bus); with `{ organizationMode: true }` the
 * rule on the central bus, `eventBus` = that bus's name (`cloudfront-autopublish-<stage>`).
 */
export function readServerlessRules(path = SERVERLESS_YML, options: ServerlessReadOptions = {}): ServerlessRulesResult {
  return rulesOf(readServerlessConfig(path), options);
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
