/**
 * member/template.yml, the stack each member account deploys in organisation mode, read as
 * CloudFormation sees it: exactly three resources, the forwarding rule's pattern equal to the central
 * stack's rule (serverless.yml), and least-privilege IAM: who may assume each role, under which
 * conditions, and exactly what each role may do.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../local/packaging';
import { loadCloudFormationYaml, readServerlessConfig, readServerlessRules } from '../local/serverless-rules';
import { expectedCloudFrontGrants, sortGrants } from './support/iam';
import { SHARED_DOC_PATTERN } from './support/rule-pattern';

type Json = any; // CloudFormation is untyped; the assertions below do the checking.

const template = loadCloudFormationYaml(readFileSync(join(PROJECT_ROOT, 'member', 'template.yml'), 'utf8')) as Json;
const resources = template.Resources as Record<string, { Type: string; Properties: Json; Condition?: string; DependsOn?: unknown }>;

const asArray = <T>(value: T | T[] | undefined): T[] => (value === undefined ? [] : Array.isArray(value) ? value : [value]);

interface Statement {
  Effect: string;
  Action: string[];
  Resource: Json[];
  [key: string]: unknown;
}
const statements = (doc: Json): Statement[] => asArray<Json>(doc.Statement).map((s) => ({ ...s, Action: asArray(s.Action), Resource: asArray(s.Resource) }));

/** The one resource of `type`, by logical id. */
function only(type: string): [string, Json] {
  const found = Object.entries(resources).filter(([, r]) => r.Type === type);
  assert.equal(found.length, 1, `one ${type}, found ${found.map(([id]) => id).join(', ')}`);
  return [found[0]![0], found[0]![1].Properties];
}

/** The role a GetAtt X.Arn names, as [logicalId, properties]. */
function roleOf(arn: Json): [string, Json] {
  assert.ok(Array.isArray(arn?.['Fn::GetAtt']) && arn['Fn::GetAtt'][1] === 'Arn', `not a role of this template: ${JSON.stringify(arn)}`);
  const id = arn['Fn::GetAtt'][0] as string;
  assert.equal(resources[id]?.Type, 'AWS::IAM::Role', `${id} is not an AWS::IAM::Role`);
  return [id, resources[id]!.Properties];
}

/** Every statement of a role: its inline policies, and no managed policy to hide more. */
function permissions(role: Json): Statement[] {
  assert.equal(role.ManagedPolicyArns, undefined, 'no managed policies');
  assert.equal(role.PermissionsBoundary, undefined);
  return asArray<Json>(role.Policies).flatMap((p) => statements(p.PolicyDocument));
}

/** A `!Sub` string with the template parameters' values put in. */
function sub(value: Json, parameters: Record<string, string>): string {
  assert.equal(typeof value?.['Fn::Sub'], 'string', `not a !Sub string: ${JSON.stringify(value)}`);
  return (value['Fn::Sub'] as string).replace(/\$\{([\w:]+)\}/g, (m, name: string) => parameters[name] ?? m);
}

function allowed(parameter: string, value: string): boolean {
  return new RegExp(template.Parameters[parameter].AllowedPattern).test(value);
}

const [ruleId, rule] = only('AWS::Events::Rule');
const [forwardingId, forwarding] = roleOf(asArray<Json>(rule.Targets)[0]?.RoleArn);
const memberEntry = Object.entries(resources).find(([id, r]) => r.Type === 'AWS::IAM::Role' && id !== forwardingId);
assert.ok(memberEntry, 'a second role: the member role');
const memberId = memberEntry[0];
const member = memberEntry[1].Properties as Json;

const CENTRAL = { CentralAccountId: '111122223333', MemberRoleName: 'cloudfront-autopublish-member', 'AWS::AccountId': '444455556666' };

describe('member/template.yml', () => {
  test('plain CloudFormation for a service-managed StackSet: no transform, nothing exported, only the central parameters required', () => {
    assert.equal(template.AWSTemplateFormatVersion, '2010-09-09');
    assert.equal(template.Transform, undefined, 'no transform (SAM, Serverless)');
    assert.deepEqual(Object.keys(resources).sort(), [forwardingId, memberId, ruleId].sort(), 'exactly the rule and the two roles');
    assert.deepEqual(
      Object.values(resources)
        .map((r) => r.Type)
        .sort(),
      ['AWS::Events::Rule', 'AWS::IAM::Role', 'AWS::IAM::Role'],
    );
    for (const [id, output] of Object.entries((template.Outputs ?? {}) as Record<string, Json>)) assert.equal(output.Export, undefined, `${id} is exported`);
    const required = Object.entries(template.Parameters as Record<string, Json>)
      .filter(([, p]) => p.Default === undefined)
      .map(([name]) => name)
      .sort();
    assert.deepEqual(required, ['CentralAccountId', 'CentralEventBusArn', 'EventHandlerRoleArn', 'SweepWorkerRoleArn']);
    assert.equal(template.Parameters.MemberRoleName.Default, 'cloudfront-autopublish-member');
    // The only fixed names: the member role's (assumed by name), and the rule's and the forwarding
    // role's, made from it (the central bus admits only a role of that name).
    assert.deepEqual(member.RoleName, { Ref: 'MemberRoleName' });
    assert.equal(sub(rule.Name, { MemberRoleName: 'x' }), 'x-forward');
    assert.equal(sub(forwarding.RoleName, { MemberRoleName: 'x' }), 'x-forward');
  });

  test('the parameters refuse what is not an account, a role ARN, a us-east-1 bus ARN or a role name fit for the rule name', () => {
    assert.ok(allowed('CentralAccountId', '111122223333'));
    assert.ok(!allowed('CentralAccountId', '11112222333'));
    for (const parameter of ['EventHandlerRoleArn', 'SweepWorkerRoleArn']) {
      assert.ok(allowed(parameter, 'arn:aws:iam::111122223333:role/cloudfront-autopublish-dev-SweepWorkerRole-AbC123'), parameter);
      assert.ok(!allowed(parameter, 'arn:aws:iam::111122223333:user/admin'), parameter);
      assert.ok(!allowed(parameter, 'arn:aws:iam::111122223333:root'), parameter);
    }
    assert.ok(allowed('CentralEventBusArn', 'arn:aws:events:us-east-1:111122223333:event-bus/cloudfront-autopublish-dev'));
    assert.ok(!allowed('CentralEventBusArn', 'arn:aws:events:eu-west-1:111122223333:event-bus/cloudfront-autopublish-dev'));
    assert.ok(allowed('MemberRoleName', 'cloudfront-autopublish-member'));
    assert.ok(!allowed('MemberRoleName', 'a+b'), 'no + = , @: the rule name is made from it');
    assert.ok(!allowed('MemberRoleName', 'x'.repeat(57)), '"-forward" must still fit in 64 characters');
  });

  test('deploys only in us-east-1, where CloudFront CloudTrail events reach the default bus', () => {
    const assertions = Object.values(template.Rules as Record<string, Json>).flatMap((r) => r.Assertions);
    assert.deepEqual(
      assertions.map((a: Json) => a.Assert),
      [{ 'Fn::Equals': [{ Ref: 'AWS::Region' }, 'us-east-1'] }],
    );
  });

  test("the rule on the default bus has exactly serverless.yml's pattern (both modes), and targets the central bus through the forwarding role", () => {
    assert.equal(rule.EventBusName, undefined, 'the default bus');
    assert.equal(rule.State, 'ENABLED');
    assert.deepEqual(rule.EventPattern, SHARED_DOC_PATTERN);
    for (const organizationMode of [false, true]) {
      const central = readServerlessRules(undefined, { organizationMode }).rules.filter((r) => r.functionName === 'onFunctionChange');
      assert.equal(central.length, 1);
      assert.deepEqual(rule.EventPattern, central[0]!.pattern, `the member rule and serverless.yml's (organizationMode ${organizationMode}) differ`);
    }
    assert.ok(!JSON.stringify(rule.EventPattern).includes('PublishFunction'));
    const targets = asArray<Json>(rule.Targets);
    assert.equal(targets.length, 1);
    assert.deepEqual(targets[0].Arn, { Ref: 'CentralEventBusArn' });
    assert.deepEqual(targets[0].RoleArn, { 'Fn::GetAtt': [forwardingId, 'Arn'] });
  });

  test('the forwarding role: only EventBridge, for this account and this rule, may assume it; it may only put events on the central bus', () => {
    const trust = statements(forwarding.AssumeRolePolicyDocument);
    assert.equal(trust.length, 1);
    const [s] = trust;
    assert.equal(s!.Effect, 'Allow');
    assert.deepEqual(s!.Action, ['sts:AssumeRole']);
    assert.deepEqual(s!.Principal, { Service: 'events.amazonaws.com' });
    assert.equal(s!.NotPrincipal, undefined);
    const condition = s!.Condition as Json;
    assert.deepEqual(Object.keys(condition).sort(), ['ArnEquals', 'StringEquals']);
    assert.deepEqual(condition.StringEquals, { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } });
    assert.deepEqual(Object.keys(condition.ArnEquals), ['aws:SourceArn']);
    // The ARN the condition names is the rule's own: same account, the default bus, the rule's name.
    assert.equal(sub(condition.ArnEquals['aws:SourceArn'], CENTRAL), `arn:aws:events:us-east-1:${CENTRAL['AWS::AccountId']}:rule/${sub(rule.Name, CENTRAL)}`);
    assert.deepEqual(permissions(forwarding), [{ Effect: 'Allow', Action: ['events:PutEvents'], Resource: [{ Ref: 'CentralEventBusArn' }] }]);
  });

  test("the member role: the central account may assume it only as the event handler's or the worker's role, for an hour at most", () => {
    assert.equal(member.MaxSessionDuration, 3600);
    const trust = statements(member.AssumeRolePolicyDocument);
    assert.equal(trust.length, 1);
    const [s] = trust;
    assert.equal(s!.Effect, 'Allow');
    assert.deepEqual(s!.Action, ['sts:AssumeRole'], 'no sts:TagSession, no SetSourceIdentity');
    assert.equal(s!.NotPrincipal, undefined);
    assert.deepEqual(Object.keys(s!.Principal as Json), ['AWS']);
    assert.equal(sub((s!.Principal as Json).AWS, CENTRAL), `arn:aws:iam::${CENTRAL.CentralAccountId}:root`);
    assert.deepEqual(s!.Condition, { ArnEquals: { 'aws:PrincipalArn': [{ Ref: 'EventHandlerRoleArn' }, { Ref: 'SweepWorkerRoleArn' }] } });
  });

  test("the member role may do exactly the single-account reconciler's CloudFront calls, and nothing else", () => {
    const granted = permissions(member);
    for (const s of granted) {
      assert.equal(s.Effect, 'Allow');
      assert.equal(s.NotAction, undefined);
      assert.equal(s.NotResource, undefined);
      assert.equal(s.Condition, undefined);
    }
    const pairs = granted.flatMap((s) => s.Action.map((a) => [a, s.Resource] as const));
    // Exactly these actions, once per kind of function they serve, each on that kind's ARNs.
    assert.deepEqual(sortGrants(pairs), expectedCloudFrontGrants());
    // The same statements as the single-account ReconcilerRole's CloudFront ones in serverless.yml.
    const config = readServerlessConfig() as Json;
    const single = statements({ Statement: config.custom.organizationMode.false.reconcilerStatements }).filter((s) =>
      s.Action.some((a) => a.startsWith('cloudfront:')),
    );
    assert.deepEqual(granted, single);
  });

  test("the member role's default name is the central stack's memberRoleName default", () => {
    const config = readServerlessConfig() as Json;
    assert.equal(template.Parameters.MemberRoleName.Default, config.params.default.memberRoleName);
  });

  test("the forwarding role's name is the one the central bus admits, and the trusted roles are the central stack's outputs", () => {
    const config = readServerlessConfig() as Json;
    const bus = config.custom.organizationMode.true.resources.Resources.CentralEventBus.Properties.Policy.Statement[0];
    // serverless.yml writes arn:aws:iam::*:role/${memberRoleName}-forward; the member template ${MemberRoleName}-forward.
    const admitted = String(bus.Condition.ArnLike['aws:PrincipalArn']).replace('${self:custom.organization.memberRoleName}', 'x');
    assert.equal(admitted, `arn:aws:iam::*:role/${sub(forwarding.RoleName, { MemberRoleName: 'x' })}`);
    const outputs = Object.keys(config.custom.organizationMode.true.resources.Outputs);
    for (const parameter of ['EventHandlerRoleArn', 'SweepWorkerRoleArn']) assert.ok(outputs.includes(parameter), `the central stack outputs ${parameter}`);
  });
});
