/**
 * The offline serverless.yml reader in both modes: the rule on the default bus (single account) and on
 * the central bus (organisation mode), and the small variable resolver behind it (`${param:}`,
 * `${self:}`, `${sls:stage}`, `${opt:, fallback}`, `functions` as a list that osls merges).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseServerlessRules, readServerlessRules } from '../../local/serverless-rules';
import { SHARED_DOC_PATTERN } from '../support/rule-pattern';

describe("serverless.yml's rules, per mode", () => {
  it('single account (the default): onFunctionChange on the default bus, nothing skipped', () => {
    for (const result of [readServerlessRules(), readServerlessRules(undefined, { organizationMode: false })]) {
      assert.deepEqual(result.skipped, []);
      assert.deepEqual(
        result.rules.map((r) => [r.name, r.functionName, r.handler, r.maximumRetryAttempts, r.eventBus]),
        [['onFunctionChange-0', 'onFunctionChange', 'handlers/on-function-change.handler', 2, undefined]],
      );
      assert.ok(!('eventBus' in result.rules[0]!), 'no eventBus key: the default bus');
      assert.deepEqual(result.rules[0]!.pattern, SHARED_DOC_PATTERN);
    }
  });

  it("organisation mode: the same rule, on the central bus, named as it deploys (the stage's)", () => {
    const org = readServerlessRules(undefined, { organizationMode: true });
    assert.deepEqual(org.skipped, []);
    assert.deepEqual(
      org.rules.map((r) => [r.name, r.functionName, r.handler, r.maximumRetryAttempts, r.eventBus]),
      [['onFunctionChange-0', 'onFunctionChange', 'handlers/on-function-change.handler', 2, 'cloudfront-autopublish-dev']],
    );
    assert.deepEqual(org.rules[0]!.pattern, SHARED_DOC_PATTERN);
    // The params record says the same, and the stage names the bus.
    const prod = readServerlessRules(undefined, { params: { organizationMode: 'true' }, stage: 'prod' });
    assert.deepEqual(
      prod.rules.map((r) => r.eventBus),
      ['cloudfront-autopublish-prod'],
    );
    // organizationMode wins over params.
    assert.equal(readServerlessRules(undefined, { params: { organizationMode: 'true' }, organizationMode: false }).rules[0]!.eventBus, undefined);
  });

  it('an organizationMode that is neither true nor false leaves the rule out, saying why', () => {
    const result = readServerlessRules(undefined, { params: { organizationMode: 'yes' } });
    assert.deepEqual(result.rules, []);
    assert.equal(result.skipped.length, 1);
    assert.match(result.skipped[0]!.reason, /eventBus .* cannot be resolved offline/);
  });
});

describe('the variable resolver', () => {
  const YML = [
    'service: svc',
    'params:',
    '  default: { mode: a, retries: "1" }',
    '  prod: { mode: b }',
    'provider:',
    "  stage: ${opt:stage, 'dev'}",
    'functions:',
    '  - f:',
    '      handler: ${self:custom.handlers.${param:mode}}',
    '      events:',
    '        - eventBridge:',
    '            eventBus: ${self:custom.bus.${param:mode}}',
    '            pattern: ${self:custom.pattern}',
    '        - eventBridge:',
    '            pattern: ${file(./pattern.json)}',
    '        - eventBridge:',
    '            eventBus: ${opt:bus, "fallback-bus"}',
    '            pattern: { source: ["${sls:stage}"] }',
    '  - ${self:custom.extra.${param:mode}}',
    'custom:',
    '  handlers: { a: a.handler, b: b.handler }',
    '  pattern: { source: [app] }',
    '  bus: { a: default, b: !Ref Bus }',
    '  extra:',
    '    a: {}',
    '    b:',
    '      f: { maximumRetryAttempts: 0 }',
    '      g: { handler: g.handler, events: [{ eventBridge: { eventBus: "arn:aws:events:us-east-1:123456789012:event-bus/other", pattern: { source: [g] } } }] }',
    'resources:',
    '  - Resources:',
    '      Bus: { Type: "AWS::Events::EventBus", Properties: { Name: "${self:service}-${sls:stage}-bus" } }',
    '  - ${self:custom.extra.a}',
  ].join('\n');

  it('resolves params, self paths (nested), the stage and option fallbacks; skips what needs another source', () => {
    const a = parseServerlessRules(YML);
    assert.deepEqual(
      a.rules.map((r) => [r.name, r.handler, r.eventBus ?? 'default', r.maximumRetryAttempts, r.pattern]),
      [
        ['f-0', 'a.handler', 'default', 2, { source: ['app'] }],
        ['f-2', 'a.handler', 'fallback-bus', 2, { source: ['dev'] }],
      ],
    );
    assert.deepEqual(
      a.skipped.map((s) => [s.functionName, s.index, s.reason]),
      [['f', 1, 'pattern missing or not a literal object']],
    );
  });

  it("merges the functions list as osls does, takes params.<stage>, and names a stack's bus by its Name", () => {
    const b = parseServerlessRules(YML, { stage: 'prod', options: { bus: 'given' } });
    assert.deepEqual(
      b.rules.map((r) => [r.name, r.handler, r.eventBus, r.maximumRetryAttempts, r.pattern]),
      [
        ['f-0', 'b.handler', 'svc-prod-bus', 0, { source: ['app'] }],
        ['f-2', 'b.handler', 'given', 0, { source: ['prod'] }],
        ['g-0', 'g.handler', 'other', 2, { source: ['g'] }],
      ],
    );
    // --param wins over params.<stage>.
    assert.deepEqual(
      parseServerlessRules(YML, { stage: 'prod', params: { mode: 'a' } }).rules.map((r) => r.handler),
      ['a.handler', 'a.handler'],
    );
  });
});
