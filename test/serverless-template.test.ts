/**
 * Packages the service for real (osls + serverless-esbuild, offline, no AWS credentials) and checks the
 * compiled CloudFormation template: the rule, the schedule, least-privilege IAM, failure handling,
 * concurrency, runtime, environment, and the size of each handler zip; then organisation mode
 * (`--param=organizationMode=true`): the central bus, the sweep queue and its worker, and IAM that
 * reaches CloudFront only through the member accounts' roles.
 *
 * Each packaging runs in its own snapshot of the project (node_modules symlinked), so the parallel runs
 * never share `.esbuild/` or `.serverless/`, and nothing is written to the working tree.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { type PackageRun, packageService, type ZipEntry, zipEntries } from '../local/packaging';
import { expectedCloudFrontGrants, FUNCTION_ARN, RECONCILER_CLOUDFRONT_ACTIONS, sortGrants, UNSCOPED_CLOUDFRONT_ACTIONS } from './support/iam';
import { SHARED_DOC_PATTERN as RULE_PATTERN } from './support/rule-pattern';
import { ACTIONS } from '../lib/decide';
import { INVOCATION_METRICS, METRICS_NAMESPACE, ORGANIZATION_METRICS, SERVICE } from '../lib/report';

const ZIP_LIMIT = 250 * 1024;
// Optional peer the SDK requires inside a try/catch (only for SigV4a, which CloudFront and EventBridge do not use).
const OPTIONAL_REQUIRES = new Set(['@aws-sdk/signature-v4-crt']);
const EVENT_FN = 'OnFunctionChangeLambdaFunction';
const SWEEP_FN = 'DriftSweepLambdaFunction';
const WORKER_FN = 'SweepAccountLambdaFunction';

type Json = any; // CloudFormation is untyped JSON; the assertions below do the checking.
type Resources = Record<string, { Type: string; Condition?: string; Properties: Json; DependsOn?: unknown }>;
interface Packaged {
  template: {
    Resources: Resources;
    Conditions?: Record<string, Json>;
    Parameters?: Record<string, { Type: string; Default?: string }>;
    Outputs?: Record<string, Json>;
  };
  state: Json;
  dir: string;
  seconds: number;
}

// ---------------------------------------------------------------- packaging

const scratch = mkdtempSync(join(tmpdir(), 'cfap-sls-'));

function readPackaged(run: PackageRun): Packaged {
  assert.equal(run.code, 0, `serverless package failed:\n${run.output}`);
  return {
    template: JSON.parse(readFileSync(join(run.outDir, 'cloudformation-template-update-stack.json'), 'utf8')),
    state: JSON.parse(readFileSync(join(run.outDir, 'serverless-state.json'), 'utf8')),
    dir: run.outDir,
    seconds: run.seconds,
  };
}

let plain: Packaged;
let withBus: Packaged;
let otherRegion: PackageRun;
let alarmTopic: Packaged;
let alarmEmail: Packaged;
let refusedAlarmParams: Record<string, PackageRun>;
let org: Packaged;
let orgAccounts: Packaged;
let refusedOrganizationParams: Record<string, PackageRun>;
let misspelt: PackageRun;

const TOPIC_ARN = 'arn:aws:sns:us-east-1:123456789012:ops-alarms';
const EMAIL = 'ops@example.com';
/** alarmTopicArn / alarmEmail values packaging must refuse, and what its message must say. */
const REFUSED_ALARM_PARAMS = {
  'alarm-both': { args: [`--param=alarmTopicArn=${TOPIC_ARN}`, `--param=alarmEmail=${EMAIL}`], message: /set alarmTopicArn or alarmEmail, not both/ },
  'alarm-topic-elsewhere': {
    args: ['--param=alarmTopicArn=arn:aws:sns:eu-west-1:123456789012:ops-alarms'],
    message: /alarmTopicArn .* is not a standard SNS topic in us-east-1/,
  },
  'alarm-two-emails': { args: ['--param=alarmEmail=a@example.com,b@example.com'], message: /alarmEmail .* is not one email address/ },
} as const;
/**
 * eventBusName / testCasesBuckets values packaging must refuse (each reaches an IAM resource ARN: "*"
 * would grant every bus or bucket), and what its message must say.
 */
const REFUSED_SWITCHING_PARAMS = {
  'bus-wildcard': { args: ['--param=eventBusName=*'], message: /eventBusName "\*" is not an event bus name/ },
  'buckets-spaced': {
    args: ['--param=testCasesBuckets=edge-tests, more.tests'],
    message: /testCasesBuckets "edge-tests, more.tests" is not a comma-separated list of S3 bucket names/,
  },
} as const;

/**
 * Params the functions would refuse at run time (lib/settings.ts), refused by packaging with the same
 * words: the wiring of local/settings-params.cjs (test/settings.test.ts runs every refused value
 * through it in-process), and an undeclared param under strictParams=true.
 */
const REFUSED_SETTING_PARAMS = {
  'settings-refused': {
    args: ['--param=dryRun=maybe', '--param=allowedNames=,'],
    message: /dryRun: "maybe" is not true or false \(the functions' DRY_RUN\); allowedNames: "," holds no name pattern/,
  },
  'settings-misspelt-strict': {
    args: ['--param=dryrun=true', '--param=strictParams=true'],
    message: /dryrun is not a param of this service \(did you mean dryRun\?\).*\(strictParams=true\)/,
  },
} as const;

const ORGANIZATION_ID = 'o-abc123def4';
const ORG_ARGS = ['--param=organizationMode=true', `--param=organizationId=${ORGANIZATION_ID}`];
const MEMBER_ACCOUNTS = '111122223333,444455556666';
const MEMBER_ROLE_ARN = 'arn:aws:iam::*:role/cloudfront-autopublish-member';
/** What member/template.yml names its forwarding role: `${MemberRoleName}-forward`. */
const FORWARDING_ROLE_NAME = 'cloudfront-autopublish-member-forward';
/** Organisation-mode params packaging must refuse, and what its message must say. */
const REFUSED_ORGANIZATION_PARAMS = {
  'org-without-id': { args: ['--param=organizationMode=true'], message: /organizationMode=true needs organizationId/ },
  'org-malformed-id': {
    args: ['--param=organizationMode=true', '--param=organizationId=abc123', `--param=memberAccounts=${MEMBER_ACCOUNTS}`],
    message: /organizationId "abc123" is not an organization ID/,
  },
  'org-params-single-account': { args: [`--param=organizationId=${ORGANIZATION_ID}`], message: /take effect only with organizationMode=true/ },
} as const;

before(
  async () => {
    const refused = Object.entries({ ...REFUSED_ALARM_PARAMS, ...REFUSED_SWITCHING_PARAMS, ...REFUSED_SETTING_PARAMS });
    const refusedOrg = Object.entries(REFUSED_ORGANIZATION_PARAMS);
    const [a, b, c, d, e, g, h, m, ...f] = await Promise.all([
      packageService(scratch, 'default'),
      packageService(scratch, 'with-bus', [
        '--stage',
        'prod',
        '--param=eventBusName=my-bus',
        '--param=tagKey=team-publish',
        '--param=testCasesBuckets=edge-tests,more.tests',
        '--param=history=false',
      ]),
      packageService(scratch, 'eu-west-1', ['--region', 'eu-west-1']),
      packageService(scratch, 'alarm-topic', [`--param=alarmTopicArn=${TOPIC_ARN}`]),
      packageService(scratch, 'alarm-email', [`--param=alarmEmail=${EMAIL}`, '--param=historyRetentionDays=30']),
      packageService(scratch, 'organization', ORG_ARGS),
      packageService(scratch, 'organization-accounts', [...ORG_ARGS, `--param=memberAccounts=${MEMBER_ACCOUNTS}`]),
      packageService(scratch, 'misspelt', ['--param=dryrun=true']),
      ...refused.map(([name, { args }]) => packageService(scratch, name, args)),
      ...refusedOrg.map(([name, { args }]) => packageService(scratch, name, [...args])),
    ]);
    plain = readPackaged(a!);
    withBus = readPackaged(b!);
    otherRegion = c!;
    alarmTopic = readPackaged(d!);
    alarmEmail = readPackaged(e!);
    org = readPackaged(g!);
    orgAccounts = readPackaged(h!);
    misspelt = m!;
    refusedAlarmParams = Object.fromEntries(refused.map(([name], i) => [name, f[i]!]));
    refusedOrganizationParams = Object.fromEntries(refusedOrg.map(([name], i) => [name, f[refused.length + i]!]));
  },
  { timeout: 240_000 },
);

after(() => rmSync(scratch, { recursive: true, force: true }));

// ---------------------------------------------------------------- template helpers

function ofType(t: Packaged, type: string): [string, Json][] {
  return Object.entries(t.template.Resources).filter(([, r]) => r.Type === type);
}

function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

/**
 * What a deploy gives a template parameter: its Default (`serverless deploy` passes no parameter
 * values, and the defaults are the params' values). A Ref to anything else is no parameter.
 */
function parameterValue(t: Packaged, name: string): string {
  const parameter = t.template.Parameters?.[name];
  assert.ok(parameter, `${name} is not a parameter of the template`);
  assert.equal(typeof parameter.Default, 'string', `parameter ${name} has no string Default`);
  return parameter.Default!;
}

function isParameter(t: Packaged, name: unknown): name is string {
  return typeof name === 'string' && t.template.Parameters?.[name] !== undefined;
}

/** Replaces each Ref to a template parameter, and each `${Parameter}` in a Sub, by the parameter's value. */
function resolveParameters(t: Packaged, value: Json): Json {
  if (Array.isArray(value)) return value.map((v) => resolveParameters(t, v));
  if (typeof value === 'object' && value !== null) {
    if (Object.keys(value).length === 1 && isParameter(t, value.Ref)) return parameterValue(t, value.Ref);
    if (typeof value['Fn::Sub'] === 'string') {
      return { 'Fn::Sub': value['Fn::Sub'].replace(/\$\{([\w:.]+)\}/g, (m: string, name: string) => (isParameter(t, name) ? parameterValue(t, name) : m)) };
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveParameters(t, v)]));
  }
  return value;
}

/**
 * Evaluates a condition the way CloudFormation would at deploy: on literals and on Refs to template
 * parameters (which take their Default, see parameterValue).
 */
function evalCondition(t: Packaged, expr: Json): boolean {
  if (typeof expr === 'object' && expr !== null) {
    if ('Condition' in expr) return evalCondition(t, t.template.Conditions?.[expr.Condition]);
    if ('Fn::Not' in expr) return !evalCondition(t, expr['Fn::Not'][0]);
    if ('Fn::And' in expr) return expr['Fn::And'].every((e: Json) => evalCondition(t, e));
    if ('Fn::Or' in expr) return expr['Fn::Or'].some((e: Json) => evalCondition(t, e));
    if ('Fn::Equals' in expr) {
      const [x, y] = resolveParameters(t, expr['Fn::Equals']);
      assert.ok(typeof x === 'string' && typeof y === 'string', `cannot evaluate ${JSON.stringify(expr)} offline`);
      return x === y;
    }
  }
  throw new Error(`unsupported condition ${JSON.stringify(expr)}`);
}

/** Drops Fn::If branches and AWS::NoValue the way CloudFormation resolves them. */
function resolveIfs(t: Packaged, value: Json): Json {
  if (Array.isArray(value)) return value.map((v) => resolveIfs(t, v)).filter((v) => v !== NO_VALUE);
  if (typeof value === 'object' && value !== null) {
    if ('Fn::If' in value) {
      const [name, yes, no] = value['Fn::If'];
      return resolveIfs(t, evalCondition(t, { Condition: name }) ? yes : no);
    }
    if (value.Ref === 'AWS::NoValue') return NO_VALUE;
    return Object.fromEntries(
      Object.entries(value)
        .map(([k, v]) => [k, resolveIfs(t, v)] as const)
        .filter(([, v]) => v !== NO_VALUE),
    );
  }
  return value;
}
const NO_VALUE = Symbol('AWS::NoValue');

/** Evaluates the string functions (Join, Split, Sub with literal values) a package leaves on literals. */
function literal(value: Json): string | string[] {
  if (typeof value === 'string') return value;
  if ('Fn::Join' in value) {
    const [sep, parts] = value['Fn::Join'];
    return (Array.isArray(parts) ? parts.flatMap((p: Json) => literal(p)) : asArray(literal(parts))).join(sep);
  }
  if ('Fn::Split' in value) {
    const [sep, text] = value['Fn::Split'];
    return (literal(text) as string).split(sep);
  }
  if ('Fn::Sub' in value && Array.isArray(value['Fn::Sub'])) {
    const [template, vars] = value['Fn::Sub'];
    return (template as string).replace(/\$\{(\w+)\}/g, (_m, name: string) => literal(vars[name]) as string);
  }
  throw new Error(`cannot evaluate ${JSON.stringify(value)} offline`);
}

interface Statement {
  Effect: string;
  Action: string[];
  Resource: Json[];
  NotAction?: unknown;
  NotResource?: unknown;
}

/** The functions of the template: the two, and the sweep worker in organisation mode. */
function functionIds(t: Packaged): string[] {
  return ofType(t, 'AWS::Lambda::Function').map(([id]) => id);
}

/** The role a function runs as (from its `Role`), a role defined in this template. */
function roleIdOf(t: Packaged, functionId: string): string {
  const role = fn(t, functionId).Role;
  // { "Fn::GetAtt": [X, "Arn"] } or { "Fn::Sub": "${X.Arn}" }; anything else is not a role of this stack.
  const logicalId =
    Array.isArray(role?.['Fn::GetAtt']) && role['Fn::GetAtt'][1] === 'Arn'
      ? role['Fn::GetAtt'][0]
      : /^\$\{([A-Za-z0-9]+)\.Arn\}$/.exec(typeof role?.['Fn::Sub'] === 'string' ? role['Fn::Sub'] : '')?.[1];
  assert.ok(typeof logicalId === 'string', `${functionId}: Role is ${JSON.stringify(role)}, not a role of this stack`);
  assert.equal(t.template.Resources[logicalId]?.Type, 'AWS::IAM::Role', `${logicalId} is not an AWS::IAM::Role of the template`);
  return logicalId;
}

/** Single account: the one role both functions run as. */
function lambdaRoleId(t: Packaged): string {
  const ids = functionIds(t).map((id) => roleIdOf(t, id));
  assert.ok(ids.length >= 2);
  assert.deepEqual(new Set(ids), new Set([ids[0]]), 'every function runs as the same role');
  return ids[0]!;
}

/**
 * Every statement that reaches a role (single account: the functions' one role): inline policies
 * plus attached conditional policies.
 */
function effectiveStatements(t: Packaged, roleId = lambdaRoleId(t)): Statement[] {
  const role = t.template.Resources[roleId]!.Properties;
  // A managed policy (AWSLambdaBasicExecutionRole, say) would grant logs:CreateLogGroup on "*" unseen here.
  assert.equal(role.ManagedPolicyArns, undefined, `${roleId} has managed policies`);
  const roleRef = { Ref: roleId };
  const docs: Json[] = [];
  for (const policy of role.Policies ?? []) docs.push(policy.PolicyDocument);
  for (const [, r] of ofType(t, 'AWS::IAM::Policy').concat(ofType(t, 'AWS::IAM::ManagedPolicy'))) {
    if (r.Condition && !evalCondition(t, { Condition: r.Condition })) continue;
    const roles = asArray(r.Properties.Roles);
    if (roles.some((role: Json) => JSON.stringify(role) === JSON.stringify(roleRef))) docs.push(r.Properties.PolicyDocument);
  }
  return docs.flatMap((doc) =>
    asArray(resolveIfs(t, resolveParameters(t, doc)).Statement).map((s: Json) => ({ ...s, Action: asArray(s.Action), Resource: asArray(s.Resource) })),
  );
}

/** The dashboard's alarm widget lists every alarm of the template, no more. */
function assertAlarmWidgetShowsEveryAlarm(t: Packaged): void {
  const alarmWidgets = (dashboardBody(t).widgets as Json[]).filter((w) => w.type === 'alarm');
  assert.deepEqual(
    alarmWidgets.flatMap((w) => w.properties.alarms).sort(),
    ofType(t, 'AWS::CloudWatch::Alarm')
      .map(([id]) => subValue(t, `${id}.Arn`))
      .sort(),
    'the alarm widget shows every alarm',
  );
}

/** The logical ids of the log groups the functions write to (`/aws/lambda/<FunctionName>`). */
function functionLogGroupIds(t: Packaged): string[] {
  return functionIds(t).map((id) => {
    const name = `/aws/lambda/${fn(t, id).FunctionName}`;
    const groups = ofType(t, 'AWS::Logs::LogGroup').filter(([, r]) => r.Properties.LogGroupName === name);
    assert.equal(groups.length, 1, `one log group named ${name}`);
    return groups[0]![0];
  });
}

function statementsFor(t: Packaged, action: string): Statement[] {
  return effectiveStatements(t).filter((s) => s.Action.includes(action));
}

function fn(t: Packaged, logicalId: string): Json {
  const resource = t.template.Resources[logicalId];
  assert.ok(resource, `${logicalId} missing from the template`);
  assert.equal(resource.Type, 'AWS::Lambda::Function');
  return resource.Properties;
}

function queueLogicalId(t: Packaged): string {
  const queues = ofType(t, 'AWS::SQS::Queue');
  assert.equal(queues.length, 1, 'exactly one SQS queue (the failure destination)');
  return queues[0]![0];
}

/** The resources a deploy creates: those whose condition holds, their Ifs and parameters resolved. */
function deployed(t: Packaged, type: string): [string, Json][] {
  return ofType(t, type)
    .filter(([, r]) => !r.Condition || evalCondition(t, { Condition: r.Condition }))
    .map(([id, r]) => [id, resolveIfs(t, resolveParameters(t, r.Properties ?? {}))]);
}

/** Buckets (or bucket policies) of the stack itself, not the framework's deployment bucket. */
function ownBuckets(t: Packaged, type: 'AWS::S3::Bucket' | 'AWS::S3::BucketPolicy'): [string, Json][] {
  return deployed(t, type).filter(([id]) => !id.startsWith('ServerlessDeploymentBucket'));
}

/** The outputs a deploy creates, the same way. */
function deployedOutputs(t: Packaged): Record<string, Json> {
  return Object.fromEntries(
    Object.entries(t.template.Outputs ?? {})
      .filter(([, o]) => !o.Condition || evalCondition(t, { Condition: o.Condition }))
      .map(([id, o]) => [id, resolveIfs(t, resolveParameters(t, o.Value))]),
  );
}

const ALARMS = ['FailedInvocationsAlarm', 'FunctionErrorsAlarm', 'BlockedPublishAlarm', 'SweepMissingAlarm', 'OutOfSyncAlarm'];

// ---------------------------------------------------------------- the dashboard

/** Every metric name the code can emit in METRICS_NAMESPACE: one per Action, and the invocation metrics. */
const EMITTED = new Set<string>([...ACTIONS, ...INVOCATION_METRICS]);
const DASHBOARD_URL = 'https://us-east-1.console.aws.amazon.com/cloudwatch/home?region=us-east-1#dashboards:name=';

/** What CloudFormation puts for `${ref}` in a Sub: a function's name, a parameter's value, ... */
function subValue(t: Packaged, ref: string): string {
  if (ref === 'AWS::Region') return 'us-east-1';
  if (ref === 'AWS::AccountId') return '123456789012';
  if (t.template.Parameters?.[ref] !== undefined) return parameterValue(t, ref);
  const [id, attribute, ...rest] = ref.split('.');
  const resource = t.template.Resources[id!];
  assert.ok(resource && rest.length === 0, `\${${ref}} names nothing in the template`);
  if (resource.Type === 'AWS::Lambda::Function' && attribute === undefined) return resource.Properties.FunctionName;
  if (resource.Type === 'AWS::SQS::Queue' && attribute === 'QueueName') return `queue-name-of-${id}`;
  if (resource.Type === 'AWS::CloudWatch::Alarm' && attribute === 'Arn') return `arn:aws:cloudwatch:us-east-1:123456789012:alarm:${id}`;
  throw new Error(`cannot resolve \${${ref}} offline`);
}

/** The dashboard's body as CloudWatch receives it: its Fn::Sub resolved, then parsed. */
function dashboardBody(t: Packaged): Json {
  const dashboards = ofType(t, 'AWS::CloudWatch::Dashboard');
  assert.equal(dashboards.length, 1, 'one dashboard');
  const sub = dashboards[0]![1].Properties.DashboardBody?.['Fn::Sub'];
  assert.equal(typeof sub, 'string', 'DashboardBody is the Fn::Sub of one string');
  return JSON.parse((sub as string).replace(/\$\{([^}]+)\}/g, (_m, ref: string) => subValue(t, ref)));
}

interface GraphedMetric {
  readonly widget: string;
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Record<string, string>;
}

/** Every metric the dashboard's metric widgets graph, written out in full. */
function graphedMetrics(t: Packaged): GraphedMetric[] {
  const body = dashboardBody(t);
  const metrics: GraphedMetric[] = [];
  for (const widget of body.widgets as Json[]) {
    if (widget.type !== 'metric') continue;
    const title = String(widget.properties.title);
    for (const entry of widget.properties.metrics as Json[][]) {
      const parts = entry.filter((p) => typeof p === 'string') as string[];
      const options = entry.find((p) => typeof p === 'object') ?? {};
      // Math expressions and the "." repeat-the-previous shorthand would hide names from this check.
      assert.equal(options.expression, undefined, `${title}: an expression`);
      assert.ok(!parts.includes('.') && !parts.includes('..'), `${title}: write ${JSON.stringify(entry)} out in full`);
      const [namespace, name, ...dims] = parts;
      assert.ok(namespace && name && dims.length % 2 === 0, `${title}: ${JSON.stringify(entry)}`);
      const dimensions: Record<string, string> = {};
      for (let i = 0; i < dims.length; i += 2) dimensions[dims[i]!] = dims[i + 1]!;
      metrics.push({ widget: title, namespace, name, dimensions });
    }
  }
  return metrics;
}

// ---------------------------------------------------------------- tests

describe('serverless package (offline, no credentials)', () => {
  test('both packagings succeed; a region other than us-east-1 is refused', (t) => {
    t.diagnostic(`package took ${plain.seconds.toFixed(1)} s (default) and ${withBus.seconds.toFixed(1)} s (with bus), in parallel`);
    assert.equal(plain.state.service.provider.region, 'us-east-1');
    assert.equal(withBus.state.service.provider.region, 'us-east-1');
    assert.notEqual(otherRegion.code, 0, `--region eu-west-1 must fail, got:\n${otherRegion.output}`);
    assert.match(otherRegion.output, /provider\.region/);
    // Saying why, not only that no value was found.
    assert.match(
      otherRegion.output,
      /region "eu-west-1": cloudfront-autopublish deploys to us-east-1 only\. CloudFront is global and its CloudTrail events reach EventBridge in us-east-1 only/,
    );
  });

  test('a param the functions would refuse fails packaging, naming it as lib/config.ts words it; a misspelt param warns, or fails with strictParams=true', () => {
    for (const [name, { message }] of Object.entries(REFUSED_SETTING_PARAMS)) {
      const run = refusedAlarmParams[name]!;
      assert.notEqual(run.code, 0, `${name} must fail, got:\n${run.output}`);
      assert.match(run.output, message, name);
    }
    assert.equal(misspelt.code, 0, misspelt.output);
    assert.match(misspelt.output, /Warning: --param=dryrun=true: dryrun is not a param of this service \(did you mean dryRun\?\)/);
    // What it was meant to set is not set.
    const packaged = readPackaged(misspelt);
    const env = resolveParameters(packaged, fn(packaged, EVENT_FN).Environment.Variables);
    assert.equal(env.DRY_RUN, 'false');
  });

  test('the CloudTrail rule has exactly the shared pattern, on the default bus, targeting the event handler', () => {
    const rules = ofType(plain, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern);
    assert.equal(rules.length, 1, 'one pattern rule');
    const rule = rules[0]![1].Properties;
    assert.deepEqual(rule.EventPattern, RULE_PATTERN);
    assert.ok(rule.EventBusName === undefined || rule.EventBusName === 'default', `rule on bus ${JSON.stringify(rule.EventBusName)}`);
    assert.equal(rule.State, 'ENABLED');
    assert.deepEqual(
      rule.Targets.map((x: Json) => x.Arn),
      [{ 'Fn::GetAtt': [EVENT_FN, 'Arn'] }],
    );
    assert.ok(!JSON.stringify(rule.EventPattern).includes('PublishFunction'));
  });

  test('the drift sweep runs on rate(15 minutes), and once a day as a full sweep (input {"full": true}); only the sweep', () => {
    const schedules = ofType(plain, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression);
    assert.deepEqual(schedules.map(([, r]) => r.Properties.ScheduleExpression).sort(), ['rate(1 day)', 'rate(15 minutes)']);
    for (const [, r] of schedules) {
      const targets = r.Properties.Targets as Json[];
      assert.deepEqual(
        targets.map((x) => x.Arn),
        [{ 'Fn::GetAtt': [SWEEP_FN, 'Arn'] }],
      );
      const input = targets[0].Input === undefined ? undefined : JSON.parse(targets[0].Input);
      assert.deepEqual(input, r.Properties.ScheduleExpression === 'rate(1 day)' ? { full: true } : undefined);
    }
  });

  test('the event handler can sweep its own account (a record naming no function): the sweep calls, and a timeout above SWEEP_RESERVE_MS', () => {
    const statements = effectiveStatements(plain);
    for (const action of ['cloudfront:ListFunctions', 'cloudfront:ListTagsForResource', 'cloudfront:DescribeFunction', 'cloudfront:PublishFunction'])
      assert.ok(
        statements.some((s) => s.Effect === 'Allow' && s.Action.includes(action)),
        `${action} for the event handler's role`,
      );
    // lib/sweep.ts refuses to start with no more than SWEEP_RESERVE_MS left (default 10 s).
    assert.ok(fn(plain, EVENT_FN).Timeout * 1000 > 2 * 10_000, `timeout ${fn(plain, EVENT_FN).Timeout} s leaves the sweep time`);
  });

  test('IAM: no wildcard actions, no Create/Update/Delete/Tag calls, CloudFront scoped to functions', () => {
    const statements = effectiveStatements(plain);
    for (const s of statements) {
      assert.equal(s.Effect, 'Allow');
      assert.equal(s.NotAction, undefined);
      assert.equal(s.NotResource, undefined);
      for (const action of s.Action) {
        assert.ok(!action.includes('*'), `wildcard action ${action}`);
        assert.ok(!/^cloudfront:(Create|Update|Delete|Tag|Untag)/.test(action), `forbidden action ${action}`);
        // ssm: the pause parameter (read-only); sns: the alarm topic. Their own tests below scope each to one resource.
        assert.match(action, /^(logs|cloudfront|sqs|events|s3|ssm|sns):/, `unexpected service in ${action}`);
      }
    }
    const cloudfront = statements.flatMap((s) => s.Action.filter((a) => a.startsWith('cloudfront:')).map((a) => [a, s.Resource] as const));
    assert.deepEqual([...new Set(cloudfront.map(([a]) => a))].sort(), [...RECONCILER_CLOUDFRONT_ACTIONS]);
    // Each kind's calls on that kind's ARNs only (connection-function/* for connection functions), the listings on "*".
    assert.deepEqual(sortGrants(cloudfront), expectedCloudFrontGrants());
    const starResources = statements.filter((s) => s.Resource.includes('*'));
    assert.deepEqual(
      starResources.flatMap((s) => s.Action).sort(),
      [...UNSCOPED_CLOUDFRONT_ACTIONS],
      'only ListFunctions, ListConnectionFunctions and ListDistributions (no resource scoping) may use Resource "*"',
    );
  });

  test("IAM: the gate may test any of this account's functions, and read objects only from the listed test-case buckets", () => {
    assert.deepEqual(
      statementsFor(plain, 'cloudfront:TestFunction').flatMap((s) => s.Resource),
      [FUNCTION_ARN],
    );
    assert.deepEqual(
      effectiveStatements(plain).flatMap((s) => s.Action.filter((a) => a.startsWith('s3:') && a !== 's3:PutObject')),
      [],
      'no S3 read without buckets (PutObject is history, below)',
    );
    const get = statementsFor(withBus, 's3:GetObject');
    assert.equal(get.length, 1);
    assert.deepEqual(get[0]!.Action, ['s3:GetObject']);
    assert.deepEqual(get[0]!.Resource.flatMap((r) => literal(r)).sort(), ['arn:aws:s3:::edge-tests/*', 'arn:aws:s3:::more.tests/*']);
    assert.deepEqual(
      effectiveStatements(withBus).flatMap((s) => s.Action.filter((a) => a.startsWith('s3:'))),
      ['s3:GetObject'],
      'no other S3 action (history=false: no PutObject either)',
    );
  });

  test('history: an encrypted, versioned, private, retained bucket; TLS only; saved versions expire after historyRetentionDays (default 400)', () => {
    const buckets = ownBuckets(plain, 'AWS::S3::Bucket');
    assert.deepEqual(
      buckets.map(([id]) => id),
      ['HistoryBucket'],
    );
    const [, bucket] = buckets[0]!;
    const resource = plain.template.Resources.HistoryBucket as unknown as Record<string, unknown>;
    assert.equal(resource.DeletionPolicy, 'Retain', 'the only copy of what production ran outlives the stack');
    assert.equal(resource.UpdateReplacePolicy, 'Retain');
    assert.deepEqual(bucket.BucketEncryption.ServerSideEncryptionConfiguration, [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }]);
    assert.deepEqual(bucket.VersioningConfiguration, { Status: 'Enabled' });
    assert.deepEqual(bucket.PublicAccessBlockConfiguration, {
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    assert.deepEqual(bucket.OwnershipControls, { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const [rule, ...others] = bucket.LifecycleConfiguration.Rules;
    assert.deepEqual(others, []);
    assert.equal(rule.Status, 'Enabled');
    assert.equal(rule.ExpirationInDays, '400');
    assert.deepEqual(rule.NoncurrentVersionExpiration, { NoncurrentDays: '400' }, 'an overwritten or deleted version expires too');
    const [, shorter] = ownBuckets(alarmEmail, 'AWS::S3::Bucket')[0]!;
    assert.equal(shorter.LifecycleConfiguration.Rules[0].ExpirationInDays, '30', 'historyRetentionDays overrides it');

    const policies = ownBuckets(plain, 'AWS::S3::BucketPolicy');
    assert.equal(policies.length, 1);
    const [, policy] = policies[0]!;
    assert.deepEqual(policy.Bucket, { Ref: 'HistoryBucket' });
    assert.deepEqual(policy.PolicyDocument.Statement, [
      {
        Sid: 'DenyInsecureTransport',
        Effect: 'Deny',
        Principal: '*',
        Action: 's3:*',
        Resource: [{ 'Fn::GetAtt': ['HistoryBucket', 'Arn'] }, { 'Fn::Sub': '${HistoryBucket.Arn}/*' }],
        Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      },
    ]);
  });

  test('history: the reconciler may only PutObject into the history bucket (no list, read or delete) and GetFunction its functions', () => {
    const s3 = effectiveStatements(plain).filter((s) => s.Action.some((a) => a.startsWith('s3:')));
    assert.deepEqual(
      s3.map((s) => [s.Action, s.Resource]),
      [[['s3:PutObject'], [{ 'Fn::Sub': '${HistoryBucket.Arn}/*' }]]],
    );
    assert.deepEqual(
      statementsFor(plain, 'cloudfront:GetFunction').flatMap((s) => s.Resource),
      [FUNCTION_ARN],
    );
    assert.deepEqual(statementsFor(plain, 'cloudfront:UpdateFunction'), [], 'rollback is the operator’s: the reconciler can never write DEVELOPMENT');
  });

  test('history: HISTORY_BUCKET names the bucket, and the bucket is an output; history=false creates neither and sets it empty', () => {
    for (const id of [EVENT_FN, SWEEP_FN]) {
      assert.deepEqual(resolveIfs(plain, resolveParameters(plain, fn(plain, id).Environment.Variables)).HISTORY_BUCKET, { Ref: 'HistoryBucket' }, id);
      assert.equal(resolveIfs(withBus, resolveParameters(withBus, fn(withBus, id).Environment.Variables)).HISTORY_BUCKET, '', id);
    }
    assert.deepEqual(deployedOutputs(plain).HistoryBucketName, { Ref: 'HistoryBucket' });
    assert.equal(deployedOutputs(withBus).HistoryBucketName, undefined);
    for (const type of ['AWS::S3::Bucket', 'AWS::S3::BucketPolicy'] as const) assert.deepEqual(ownBuckets(withBus, type), [], type);
    assert.deepEqual(
      effectiveStatements(withBus).flatMap((s) => s.Action.filter((a) => a === 's3:PutObject')),
      [],
    );
  });

  test('IAM: both functions run as one role of this stack, which only Lambda can assume', () => {
    for (const t of [plain, withBus]) {
      const roleId = lambdaRoleId(t);
      const trust = t.template.Resources[roleId]!.Properties.AssumeRolePolicyDocument;
      const statements = asArray(trust.Statement) as Json[];
      assert.equal(statements.length, 1, 'one trust statement');
      const s = statements[0];
      assert.equal(s.Effect, 'Allow');
      assert.deepEqual(asArray(s.Action), ['sts:AssumeRole']);
      assert.deepEqual(Object.keys(s.Principal), ['Service']);
      assert.deepEqual(asArray(s.Principal.Service), ['lambda.amazonaws.com']);
      assert.equal(s.NotPrincipal, undefined);
    }
  });

  test("IAM: logs only CreateLogStream/PutLogEvents, on exactly the two functions' own log groups", () => {
    for (const t of [plain, withBus]) {
      const groups = functionLogGroupIds(t).map((id) => ({ 'Fn::GetAtt': [id, 'Arn'] }));
      const logs = effectiveStatements(t).filter((s) => s.Action.some((a) => a.startsWith('logs:')));
      const actions = logs.flatMap((s) => s.Action);
      // CreateLogGroup is not needed (the stack creates both groups), and the framework's grant of it
      // and of TagResource was on a name wildcard that also matched longer stage names (dev -> development).
      assert.ok(!actions.includes('logs:CreateLogGroup'), 'no logs:CreateLogGroup');
      assert.ok(!actions.includes('logs:TagResource'), 'no logs:TagResource');
      assert.deepEqual([...new Set(actions)].sort(), ['logs:CreateLogStream', 'logs:PutLogEvents']);
      for (const s of logs) {
        assert.ok(
          s.Action.every((a) => a.startsWith('logs:')),
          `logs mixed with other services: ${s.Action}`,
        );
        for (const r of s.Resource) assert.ok(!/log-group:[^:"]*\*/.test(JSON.stringify(r)), `wildcard log-group name in ${JSON.stringify(r)}`);
      }
      for (const action of ['logs:CreateLogStream', 'logs:PutLogEvents']) {
        const resources = logs.filter((s) => s.Action.includes(action)).flatMap((s) => s.Resource);
        assert.deepEqual(
          resources.map((r) => JSON.stringify(r)).sort(),
          groups.map((r) => JSON.stringify(r)).sort(),
          `${action} only on the functions' own log groups`,
        );
      }
    }
  });

  test('IAM: no events:PutEvents without a bus; with one, PutEvents on exactly that bus', () => {
    assert.deepEqual(statementsFor(plain, 'events:PutEvents'), []);
    const put = statementsFor(withBus, 'events:PutEvents');
    assert.equal(put.length, 1);
    assert.deepEqual(put[0]!.Action, ['events:PutEvents']);
    assert.deepEqual(put[0]!.Resource, [{ 'Fn::Sub': 'arn:aws:events:us-east-1:${AWS::AccountId}:event-bus/my-bus' }]);
  });

  test('IAM: sqs:SendMessage only to the failure queue', () => {
    for (const t of [plain, withBus]) {
      const send = statementsFor(t, 'sqs:SendMessage');
      // The on-failure destination needs it: Lambda sends the failed event with the function's role.
      assert.ok(send.length >= 1, 'the role can send to the failure queue');
      const sqs = effectiveStatements(t).flatMap((s) => s.Action.filter((a) => a.startsWith('sqs:')));
      assert.deepEqual([...new Set(sqs)], ['sqs:SendMessage'], 'no other SQS action');
      for (const s of send) {
        assert.deepEqual(s.Action, ['sqs:SendMessage']);
        assert.deepEqual(s.Resource, [{ 'Fn::GetAtt': [queueLogicalId(t), 'Arn'] }]);
      }
    }
  });

  test('async invocation: events retried twice, the sweep never (the schedule retries), bounded event age, failures to the 14-day encrypted queue', () => {
    const queue = queueLogicalId(plain);
    const props = plain.template.Resources[queue]!.Properties;
    assert.equal(props.MessageRetentionPeriod, 1209600);
    assert.equal(props.SqsManagedSseEnabled, true);
    const configs = ofType(plain, 'AWS::Lambda::EventInvokeConfig');
    assert.deepEqual(configs.map(([, r]) => r.Properties.FunctionName.Ref).sort(), [SWEEP_FN, EVENT_FN]);
    for (const [id, r] of configs) {
      const p = r.Properties;
      assert.equal(p.MaximumRetryAttempts, p.FunctionName.Ref === SWEEP_FN ? 0 : 2, id);
      assert.ok(Number.isInteger(p.MaximumEventAgeInSeconds) && p.MaximumEventAgeInSeconds >= 60 && p.MaximumEventAgeInSeconds <= 21600, id);
      assert.deepEqual(p.DestinationConfig.OnFailure.Destination, { 'Fn::GetAtt': [queue, 'Arn'] }, id);
      assert.equal(p.Qualifier, '$LATEST');
    }
  });

  test('the event handler knows the failure queue (non-retryable failures go there at once); the sweep does not', () => {
    const queue = queueLogicalId(plain);
    assert.deepEqual(fn(plain, EVENT_FN).Environment.Variables.FAILURE_QUEUE_URL, { Ref: queue });
    assert.equal(fn(plain, SWEEP_FN).Environment.Variables.FAILURE_QUEUE_URL, undefined);
  });

  test('an alarm fires on the first message in the failure queue', () => {
    const queue = queueLogicalId(plain);
    const alarms = ofType(plain, 'AWS::CloudWatch::Alarm')
      .map(([, r]) => r.Properties)
      .filter((p) => p.Namespace === 'AWS/SQS' && p.MetricName === 'ApproximateNumberOfMessagesVisible');
    assert.equal(alarms.length, 1);
    const alarm = alarms[0];
    assert.deepEqual(alarm.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queue, 'QueueName'] } }]);
    assert.equal(alarm.Threshold, 1);
    assert.equal(alarm.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
  });

  test('dashboard: every custom metric it graphs is one the code emits, with the one dimension Powertools gives it', () => {
    for (const t of [plain, withBus]) {
      const metrics = graphedMetrics(t);
      assert.ok(metrics.length > 0);
      for (const m of metrics) {
        assert.ok(['AWS/Lambda', 'AWS/SQS', METRICS_NAMESPACE].includes(m.namespace), `${m.widget}: namespace ${m.namespace}`);
        if (m.namespace !== METRICS_NAMESPACE) continue;
        assert.ok(EMITTED.has(m.name), `${m.widget}: ${m.name} is not a metric the code emits (${[...EMITTED].join(', ')})`);
        // Metrics({ namespace, serviceName: SERVICE }) stores every metric under the dimension service=SERVICE only.
        assert.deepEqual(m.dimensions, { service: SERVICE }, `${m.widget}: dimensions of ${m.name}`);
      }
    }
    // The code names the namespace and service itself; the environment must not tell another story.
    for (const id of [EVENT_FN, SWEEP_FN]) {
      const env = fn(plain, id).Environment.Variables;
      assert.equal(env.POWERTOOLS_METRICS_NAMESPACE, METRICS_NAMESPACE, id);
      assert.equal(env.POWERTOOLS_SERVICE_NAME, SERVICE, id);
    }
  });

  test('dashboard: every action has a graph, and so does each invocation metric', () => {
    const graphed = new Set(
      graphedMetrics(plain)
        .filter((m) => m.namespace === METRICS_NAMESPACE)
        .map((m) => m.name),
    );
    for (const name of [...EMITTED].filter((m) => !(ORGANIZATION_METRICS as readonly string[]).includes(m)))
      assert.ok(graphed.has(name), `no graph of ${name}`);
    const graphedInOrg = new Set(
      graphedMetrics(org)
        .filter((m) => m.namespace === METRICS_NAMESPACE)
        .map((m) => m.name),
    );
    for (const name of EMITTED) assert.ok(graphedInOrg.has(name), `no graph of ${name} in organisation mode`);
  });

  test("dashboard: the sweep's duration, both functions' errors and throttles, the failure queue's depth; its URL is an output", () => {
    const metrics = graphedMetrics(plain);
    const names = [EVENT_FN, SWEEP_FN].map((id) => fn(plain, id).FunctionName as string);
    const has = (namespace: string, name: string, dimensions: Record<string, string>) =>
      metrics.some((m) => m.namespace === namespace && m.name === name && JSON.stringify(m.dimensions) === JSON.stringify(dimensions));
    for (const functionName of names) {
      for (const metric of ['Errors', 'Throttles']) assert.ok(has('AWS/Lambda', metric, { FunctionName: functionName }), `${metric} of ${functionName}`);
    }
    assert.ok(has('AWS/Lambda', 'Duration', { FunctionName: names[1]! }), "the sweep's duration");
    assert.ok(has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `queue-name-of-${queueLogicalId(plain)}` }), "the failure queue's depth");
    for (const m of metrics.filter((m) => m.namespace === 'AWS/Lambda'))
      assert.ok(names.includes(m.dimensions.FunctionName!), `${m.widget}: ${JSON.stringify(m.dimensions)}`);

    assertAlarmWidgetShowsEveryAlarm(plain);

    for (const [t, stage] of [
      [plain, 'dev'],
      [withBus, 'prod'],
    ] as const) {
      const [id, dashboard] = ofType(t, 'AWS::CloudWatch::Dashboard')[0]!;
      assert.equal(dashboard.Properties.DashboardName, `cloudfront-autopublish-${stage}`);
      assert.deepEqual(t.template.Outputs?.DashboardUrl?.Value, { 'Fn::Sub': `${DASHBOARD_URL}\${${id}}` });
    }
  });

  test('alarms: the blocked alarm fires on the first blocked publish, counted exactly as the code emits it', () => {
    const blocked = deployed(plain, 'AWS::CloudWatch::Alarm').filter(([, p]) => p.MetricName === 'blocked');
    assert.equal(blocked.length, 1);
    const [, p] = blocked[0]!;
    assert.equal(p.Namespace, METRICS_NAMESPACE);
    assert.deepEqual(p.Dimensions, [{ Name: 'service', Value: SERVICE }]);
    assert.equal(p.Statistic, 'Sum');
    assert.equal(p.Threshold, 1);
    assert.equal(p.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(p.TreatMissingData, 'notBreaching');
    // Any block in the window: one datapoint of the last N is enough, so every sweep that blocks again
    // keeps it in ALARM (no flapping) as long as the window covers a sweep interval (15 minutes).
    assert.equal(p.DatapointsToAlarm, 1);
    assert.ok(p.Period * p.EvaluationPeriods >= 3600, `window of ${p.Period * p.EvaluationPeriods} s`);
    // Whatever else alarms on a custom metric must name one the code emits, with its dimension.
    for (const [id, alarm] of deployed(plain, 'AWS::CloudWatch::Alarm')) {
      const stats = [alarm, ...(alarm.Metrics ?? []).map((m: Json) => m.MetricStat?.Metric).filter(Boolean)];
      for (const m of stats.filter((m: Json) => m.Namespace === METRICS_NAMESPACE)) {
        assert.ok(EMITTED.has(m.MetricName), `${id}: ${m.MetricName} is not a metric the code emits`);
        assert.deepEqual(m.Dimensions, [{ Name: 'service', Value: SERVICE }], id);
      }
    }
  });

  test('alarms: without alarmTopicArn or alarmEmail, no actions and no topic', () => {
    const alarms = deployed(plain, 'AWS::CloudWatch::Alarm');
    assert.deepEqual(alarms.map(([id]) => id).sort(), [...ALARMS].sort());
    for (const [id, p] of alarms) {
      assert.equal(p.AlarmActions, undefined, id);
      assert.equal(p.OKActions, undefined, id);
    }
    assert.deepEqual(deployed(plain, 'AWS::SNS::Topic'), []);
    assert.deepEqual(deployed(plain, 'AWS::SNS::Subscription'), []);
    assert.equal(deployedOutputs(plain).AlarmTopicArn, undefined);
  });

  test('alarms: with alarmTopicArn, every alarm notifies that topic on ALARM and on OK; the stack creates no topic', () => {
    const alarms = deployed(alarmTopic, 'AWS::CloudWatch::Alarm');
    assert.deepEqual(alarms.map(([id]) => id).sort(), [...ALARMS].sort());
    for (const [id, p] of alarms) {
      assert.deepEqual(p.AlarmActions, [TOPIC_ARN], id);
      assert.deepEqual(p.OKActions, [TOPIC_ARN], id);
    }
    assert.deepEqual(deployed(alarmTopic, 'AWS::SNS::Topic'), []);
    assert.deepEqual(deployed(alarmTopic, 'AWS::SNS::Subscription'), []);
    assert.equal(deployedOutputs(alarmTopic).AlarmTopicArn, TOPIC_ARN);
  });

  test('alarms: with alarmEmail, the stack creates one topic that emails the address, and every alarm notifies it', () => {
    const topics = deployed(alarmEmail, 'AWS::SNS::Topic');
    assert.equal(topics.length, 1);
    const topic = { Ref: topics[0]![0] };
    const subscriptions = deployed(alarmEmail, 'AWS::SNS::Subscription').map(([, p]) => p);
    assert.deepEqual(subscriptions, [{ TopicArn: topic, Protocol: 'email', Endpoint: EMAIL }]);
    const alarms = deployed(alarmEmail, 'AWS::CloudWatch::Alarm');
    assert.deepEqual(alarms.map(([id]) => id).sort(), [...ALARMS].sort());
    for (const [id, p] of alarms) {
      assert.deepEqual(p.AlarmActions, [topic], id);
      assert.deepEqual(p.OKActions, [topic], id);
    }
    assert.deepEqual(deployedOutputs(alarmEmail).AlarmTopicArn, topic);
  });

  test('eventBusName and testCasesBuckets: "*" or "a, b" fail packaging, saying why, and CloudFormation refuses them too', () => {
    for (const [name, { message }] of Object.entries(REFUSED_SWITCHING_PARAMS)) {
      const run = refusedAlarmParams[name]!;
      assert.notEqual(run.code, 0, `${name} must fail, got:\n${run.output}`);
      assert.match(run.output, message, name);
    }
    // Given to CloudFormation directly (a console deploy, a changed parameter), the same values fail at
    // deploy, before IAM ever sees arn:aws:s3:::*/* or event-bus/*.
    const allowed = (parameter: string) => {
      const pattern = (plain.template.Parameters?.[parameter] as { AllowedPattern?: string } | undefined)?.AllowedPattern;
      assert.equal(typeof pattern, 'string', `${parameter} has no AllowedPattern`);
      return (value: string) => new RegExp(pattern!).test(value);
    };
    const bus = allowed('EventBusName');
    for (const good of ['', 'my-bus', 'platform.events_2', 'default']) assert.ok(bus(good), `EventBusName ${JSON.stringify(good)} refused`);
    for (const bad of ['*', 'my-*', 'a, b', 'a,b', ' my-bus', 'arn:aws:events:us-east-1:123456789012:event-bus/my-bus', 'x'.repeat(257)]) {
      assert.ok(!bus(bad), `EventBusName ${JSON.stringify(bad)} allowed`);
    }
    const buckets = allowed('TestCasesBuckets');
    for (const good of ['', 'edge-tests', 'edge-tests,more.tests', 'a1b']) assert.ok(buckets(good), `TestCasesBuckets ${JSON.stringify(good)} refused`);
    for (const bad of ['*', 'edge-*', 'edge-tests, more.tests', 'edge-tests,', ',edge-tests', 'a,,b', 'Edge-Tests', 'ab', '-edge', 'edge/tests']) {
      assert.ok(!buckets(bad), `TestCasesBuckets ${JSON.stringify(bad)} allowed`);
    }
    // Each deploy's own values pass its patterns.
    assert.ok(bus(parameterValue(withBus, 'EventBusName')) && buckets(parameterValue(withBus, 'TestCasesBuckets')));
  });

  test('alarms: both params at once, a topic outside us-east-1 or two addresses fail packaging, saying why', () => {
    for (const [name, { message }] of Object.entries(REFUSED_ALARM_PARAMS)) {
      const run = refusedAlarmParams[name]!;
      assert.notEqual(run.code, 0, `${name} must fail, got:\n${run.output}`);
      assert.match(run.output, message, name);
    }
  });

  test('functions: nodejs22.x on arm64, small reserved concurrency, sane memory and timeouts, 30-day logs', () => {
    for (const id of [EVENT_FN, SWEEP_FN]) {
      const p = fn(plain, id);
      assert.equal(p.Runtime, 'nodejs22.x', id);
      assert.deepEqual(p.Architectures, ['arm64'], id);
      assert.ok(p.MemorySize >= 128 && p.MemorySize <= 1024, id);
    }
    const event = fn(plain, EVENT_FN);
    const sweep = fn(plain, SWEEP_FN);
    assert.equal(event.Handler, 'handlers/on-function-change.handler');
    assert.equal(sweep.Handler, 'handlers/drift-sweep.handler');
    assert.equal(event.Timeout, 30);
    assert.ok(sweep.Timeout >= 300 && sweep.Timeout <= 900, `sweep timeout ${sweep.Timeout}`);
    assert.ok(event.ReservedConcurrentExecutions >= 1 && event.ReservedConcurrentExecutions <= 5);
    assert.equal(sweep.ReservedConcurrentExecutions, 1, 'never two sweeps at once');
    const groups = ofType(plain, 'AWS::Logs::LogGroup').map(([, r]) => r.Properties.RetentionInDays);
    assert.deepEqual(groups, [30, 30]);
  });

  test('every condition tests a template parameter, never two constants (cfn-lint W8003)', () => {
    for (const t of [plain, withBus, org, orgAccounts]) {
      const conditions = Object.entries(t.template.Conditions ?? {});
      assert.ok(conditions.length > 0);
      const equalsIn = (expr: Json): Json[][] =>
        typeof expr !== 'object' || expr === null ? [] : 'Fn::Equals' in expr ? [expr['Fn::Equals']] : Object.values(expr).flatMap(equalsIn);
      for (const [name, expr] of conditions) {
        for (const operands of equalsIn(expr)) {
          assert.ok(
            operands.some((o) => isParameter(t, o?.Ref)),
            `${name} compares ${JSON.stringify(operands)}: no template parameter`,
          );
        }
      }
    }
  });

  test('environment: defaults, and params override them', () => {
    const defaults = {
      AUTO_PUBLISH_TAG_KEY: 'auto-publish',
      AUTO_PUBLISH_TAG_VALUE: 'true',
      DRY_RUN: 'false',
      EVENT_BUS_NAME: '',
      AUTO_PUBLISH_ALLOWED_NAMES: '',
      SWEEP_CONCURRENCY: '4',
      POWERTOOLS_SERVICE_NAME: 'cloudfront-autopublish',
      POWERTOOLS_METRICS_NAMESPACE: 'CloudFrontAutoPublish',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      TEST_CASES_BUCKETS: '',
    };
    for (const id of [EVENT_FN, SWEEP_FN]) {
      const env = resolveParameters(plain, fn(plain, id).Environment.Variables);
      assert.deepEqual(Object.fromEntries(Object.keys(defaults).map((k) => [k, env[k]])), defaults, id);
      // Source maps are not shipped, so the flag would only cost start-up time.
      assert.ok(!String(env.NODE_OPTIONS ?? '').includes('source-maps'), id);
      const overridden = resolveParameters(withBus, fn(withBus, id).Environment.Variables);
      assert.equal(overridden.EVENT_BUS_NAME, 'my-bus', id);
      assert.equal(overridden.AUTO_PUBLISH_TAG_KEY, 'team-publish', id);
      assert.equal(overridden.AUTO_PUBLISH_TAG_VALUE, 'true', id);
      assert.equal(overridden.TEST_CASES_BUCKETS, 'edge-tests,more.tests', id);
    }
  });

  test('pause: the stack creates /cloudfront-autopublish/<stage>/pause = active, and every function is told its name', () => {
    for (const [t, stage] of [
      [plain, 'dev'],
      [withBus, 'prod'],
      [org, 'dev'],
    ] as const) {
      const parameters = deployed(t, 'AWS::SSM::Parameter');
      assert.equal(parameters.length, 1, 'one SSM parameter');
      const [id, p] = parameters[0]!;
      assert.deepEqual([p.Name, p.Type, p.Value], [`/cloudfront-autopublish/${stage}/pause`, 'String', 'active']);
      for (const fnId of functionIds(t)) {
        const env = fn(t, fnId).Environment.Variables;
        assert.deepEqual(env.PAUSE_PARAMETER, { Ref: id }, fnId);
        assert.equal(env.PAUSE_CACHE_SECONDS, '30', fnId);
        assert.equal(env.OUT_OF_SYNC_MINUTES, '30', fnId);
        assert.equal(env.SWEEP_INTERVAL_SECONDS, '900', `${fnId}: rate(15 minutes)`);
      }
    }
  });

  test('IAM: ssm:GetParameter on exactly the pause parameter, nothing else of SSM (operators write it with their own credentials)', () => {
    for (const t of [plain, withBus, org]) {
      const [id] = deployed(t, 'AWS::SSM::Parameter')[0]!;
      // Every role that runs a function: the reconcilers read it, organisation mode's fan-out reads nothing.
      for (const fnId of functionIds(t)) {
        const roleId = roleIdOf(t, fnId);
        const ssm = effectiveStatements(t, roleId).filter((s) => s.Action.some((a) => a.startsWith('ssm:')));
        if (roleId === 'SweepFanOutRole') {
          assert.deepEqual(ssm, [], roleId);
          continue;
        }
        assert.equal(ssm.length, 1, roleId);
        assert.deepEqual(ssm[0]!.Action, ['ssm:GetParameter']);
        assert.deepEqual(ssm[0]!.Resource, [{ 'Fn::Sub': `arn:aws:ssm:us-east-1:\${AWS::AccountId}:parameter\${${id}}` }]);
        assert.equal(ssm[0]!.Effect, 'Allow');
      }
    }
  });

  test('IAM: sns:Publish on exactly the alarm topic when there is one; none without', () => {
    assert.deepEqual(statementsFor(plain, 'sns:Publish'), []);
    const topic = statementsFor(alarmTopic, 'sns:Publish');
    assert.deepEqual(
      topic.map((s) => [s.Action, s.Resource]),
      [[['sns:Publish'], [TOPIC_ARN]]],
    );
    const created = deployed(alarmEmail, 'AWS::SNS::Topic')[0]![0];
    assert.deepEqual(
      statementsFor(alarmEmail, 'sns:Publish').map((s) => [s.Action, s.Resource]),
      [[['sns:Publish'], [{ Ref: created }]]],
    );
    const sns = effectiveStatements(alarmEmail).flatMap((s) => s.Action.filter((a) => a.startsWith('sns:')));
    assert.deepEqual(sns, ['sns:Publish']);
    // The functions know where to send: the same topic, or nothing.
    for (const id of [EVENT_FN, SWEEP_FN]) {
      assert.equal(resolveIfs(plain, resolveParameters(plain, fn(plain, id).Environment.Variables)).ALARM_TOPIC_ARN, '', id);
      assert.equal(resolveIfs(alarmTopic, resolveParameters(alarmTopic, fn(alarmTopic, id).Environment.Variables)).ALARM_TOPIC_ARN, TOPIC_ARN, id);
      assert.deepEqual(resolveIfs(alarmEmail, resolveParameters(alarmEmail, fn(alarmEmail, id).Environment.Variables)).ALARM_TOPIC_ARN, { Ref: created }, id);
    }
  });

  test('alarms: SweepMissingAlarm fires when the drift sweep has not run for 2 x its schedule, missing data breaching', () => {
    const [, p] = deployed(alarmTopic, 'AWS::CloudWatch::Alarm').find(([id]) => id === 'SweepMissingAlarm')!;
    assert.deepEqual([p.Namespace, p.MetricName, p.Statistic], ['AWS/Lambda', 'Invocations', 'Sum']);
    assert.deepEqual(p.Dimensions, [{ Name: 'FunctionName', Value: { Ref: SWEEP_FN } }]);
    assert.equal(p.Period * p.EvaluationPeriods, 2 * 900, '2 x rate(15 minutes)');
    assert.deepEqual([p.Threshold, p.ComparisonOperator, p.TreatMissingData], [1, 'LessThanThreshold', 'breaching']);
    assert.deepEqual(p.AlarmActions, [TOPIC_ARN]);
  });

  test('alarms: OutOfSyncAlarm reads the out-of-sync count each sweep emits, and fires when it stays at one or more', () => {
    const [, p] = deployed(alarmTopic, 'AWS::CloudWatch::Alarm').find(([id]) => id === 'OutOfSyncAlarm')!;
    assert.deepEqual([p.Namespace, p.MetricName], [METRICS_NAMESPACE, 'out-of-sync']);
    assert.ok((INVOCATION_METRICS as readonly string[]).includes(p.MetricName), 'a metric the code emits');
    assert.deepEqual(p.Dimensions, [{ Name: 'service', Value: SERVICE }]);
    assert.equal(p.Statistic, 'Maximum');
    assert.equal(p.Period, 900, 'one sweep per period');
    assert.ok(p.DatapointsToAlarm >= 2 && p.EvaluationPeriods >= p.DatapointsToAlarm, 'stays: more than one sweep');
    assert.deepEqual([p.Threshold, p.ComparisonOperator, p.TreatMissingData], [1, 'GreaterThanOrEqualToThreshold', 'notBreaching']);
    assert.deepEqual(p.AlarmActions, [TOPIC_ARN]);
  });

  test('dashboard: the held (paused) and out-of-sync counts are graphed, and the alarm widget shows the new alarms', () => {
    const names = graphedMetrics(plain)
      .filter((m) => m.namespace === METRICS_NAMESPACE)
      .map((m) => m.name);
    assert.ok(names.includes('paused') && names.includes('out-of-sync'));
    assertAlarmWidgetShowsEveryAlarm(plain);
  });

  test('each handler is its own bundled zip of at most 250 KB: its ES module and its chunks, without node_modules or source maps', (t) => {
    for (const [name, entry] of [
      ['onFunctionChange', 'handlers/on-function-change.mjs'],
      ['driftSweep', 'handlers/drift-sweep.mjs'],
    ] as const) {
      const zip = join(plain.dir, `${name}.zip`);
      assert.ok(existsSync(zip), `${zip} missing`);
      const size = statSync(zip).size;
      const entries = zipEntries(zip);
      const unzipped = entries.reduce((sum, e) => sum + e.size, 0);
      t.diagnostic(`${name}.zip: ${(size / 1024).toFixed(1)} KB zipped, ${(unzipped / 1024).toFixed(1)} KB unzipped, ${entries.length} files`);
      assert.ok(size <= ZIP_LIMIT, `${name}.zip is ${size} bytes, over the ${ZIP_LIMIT}-byte target`);
      assertSelfContained(name, entries, entry);
    }
  });
});

/**
 * A handler's zip holds `entry` (an ES module) and the chunks it loads, which is all it needs: every
 * file it imports, statically or not, is in the zip, and no package is taken from the runtime (the
 * SDK is bundled), only Node built-ins. Nothing else: no other handler's chunks, node_modules,
 * source maps or sources.
 */
function assertSelfContained(name: string, entries: ZipEntry[], entry: string): void {
  const names = new Set(entries.map((e) => e.name));
  assert.ok(names.has(entry), `${entry} not in ${name}.zip: ${[...names].join(', ')}`);
  const chunks = `${entry.slice(0, -'.mjs'.length)}.chunks/`;
  for (const e of entries) {
    assert.ok(
      e.name === entry || (e.name.startsWith(chunks) && e.name.endsWith('.mjs')),
      `${name}.zip ships ${e.name}, neither ${entry} nor one of its chunks`,
    );
  }
  assert.ok(entries.length > 1, `${name}.zip holds no chunk: the lazily loaded gateways are not split off`);
  const foreign = new Set<string>();
  for (const e of entries) {
    const text = e.read();
    const specifiers = [...text.matchAll(/\bfrom\s*"([^"]+)"|\bimport\s*\(?\s*"([^"]+)"|\brequire\("([^"]+)"\)/g)].map((m) => (m[1] ?? m[2] ?? m[3])!);
    for (const specifier of specifiers) {
      if (specifier.startsWith('.')) {
        const target = posix.join(posix.dirname(e.name), specifier);
        assert.ok(names.has(target), `${e.name} imports ${specifier}, which ${name}.zip does not hold`);
      } else if (!specifier.startsWith('node:') && !builtinModules.includes(specifier) && !OPTIONAL_REQUIRES.has(specifier)) {
        foreign.add(specifier);
      }
    }
  }
  assert.deepEqual([...foreign], [], `${name}.zip imports packages at run time instead of bundling them`);
}

// ---------------------------------------------------------------- organisation mode

/** The rules with an event pattern (not the schedules). */
function patternRules(t: Packaged): [string, Json][] {
  return ofType(t, 'AWS::Events::Rule').filter(([, r]) => r.Properties.EventPattern);
}

function resourceOfType(t: Packaged, id: string, type: string): Json {
  const resource = t.template.Resources[id];
  assert.ok(resource, `${id} missing from the template`);
  assert.equal(resource.Type, type, id);
  assert.equal(resource.Condition, undefined, `${id} is conditional`);
  return resource.Properties;
}

const ORG_ENV = ['ORGANIZATION_MODE', 'MEMBER_ROLE_NAME', 'MEMBER_ACCOUNTS', 'SWEEP_QUEUE_URL'];
const ORG_RESOURCES = [
  'CentralEventBus',
  'SweepQueue',
  'SweepDeadLetterQueue',
  'SweepDeadLetterAlarm',
  'AccountSweepFailedAlarm',
  'SweepWorkerErrorsAlarm',
  WORKER_FN,
];
const ORG_OUTPUTS = ['EventHandlerRoleArn', 'SweepWorkerRoleArn', 'CentralEventBusArn', 'SweepQueueUrl'];

describe('organisation mode (--param=organizationMode=true)', () => {
  test('single account, the default, has none of it: no bus, worker, sweep queue, outputs or environment of organisation mode', () => {
    for (const t of [plain, withBus, alarmTopic, alarmEmail]) {
      for (const id of ORG_RESOURCES) assert.equal(t.template.Resources[id], undefined, id);
      assert.deepEqual(functionIds(t).sort(), [SWEEP_FN, EVENT_FN]);
      assert.deepEqual(ofType(t, 'AWS::Events::EventBus'), []);
      assert.deepEqual(ofType(t, 'AWS::Lambda::EventSourceMapping'), []);
      for (const name of ORG_OUTPUTS) assert.equal(t.template.Outputs?.[name], undefined, name);
      for (const name of ['OrganizationId', 'MemberAccounts']) assert.equal(t.template.Parameters?.[name], undefined, name);
      for (const id of functionIds(t)) {
        const env = fn(t, id).Environment.Variables;
        for (const name of ORG_ENV) assert.equal(env[name], undefined, `${id}: ${name}`);
      }
      const actions = effectiveStatements(t).flatMap((s) => s.Action);
      assert.ok(!actions.some((a) => /^(sts|organizations):/.test(a)), `single account: ${actions.join(', ')}`);
    }
  });

  test('both packagings succeed; a missing or malformed organizationId, or organisation params without it, fail packaging, saying why', () => {
    assert.equal(org.state.service.provider.region, 'us-east-1');
    for (const [name, { message }] of Object.entries(REFUSED_ORGANIZATION_PARAMS)) {
      const run = refusedOrganizationParams[name]!;
      assert.notEqual(run.code, 0, `${name} must fail, got:\n${run.output}`);
      assert.match(run.output, message, name);
    }
    // CloudFormation refuses the same values (OrganizationId given to it directly, say).
    const pattern = new RegExp(org.template.Parameters!.OrganizationId!['AllowedPattern' as never] as string);
    assert.ok(pattern.test(ORGANIZATION_ID));
    assert.ok(!pattern.test('') && !pattern.test('abc123'), 'OrganizationId is required and must be o-...');
    assert.equal(parameterValue(org, 'OrganizationId'), ORGANIZATION_ID);
  });

  test('the CloudTrail rule moves to the central bus with the same pattern: no rule on the default bus', () => {
    for (const t of [org, orgAccounts]) {
      const rules = patternRules(t);
      assert.equal(rules.length, 1, 'one pattern rule, none left on the default bus');
      const rule = rules[0]![1].Properties;
      assert.deepEqual(rule.EventPattern, RULE_PATTERN);
      assert.deepEqual(rule.EventPattern, patternRules(plain)[0]![1].Properties.EventPattern, "the single-account rule's pattern");
      assert.deepEqual(rule.EventBusName, { 'Fn::GetAtt': ['CentralEventBus', 'Name'] });
      assert.equal(rule.State, 'ENABLED');
      assert.deepEqual(
        rule.Targets.map((x: Json) => x.Arn),
        [{ 'Fn::GetAtt': [EVENT_FN, 'Arn'] }],
      );
      // Lambda lets EventBridge invoke the handler for the rule on that bus (rule/<bus>/<rule>).
      const permissions = ofType(t, 'AWS::Lambda::Permission').filter(([, p]) => JSON.stringify(p.Properties.SourceArn).includes(rule.Name));
      assert.equal(permissions.length, 1);
      assert.ok(JSON.stringify(permissions[0]![1].Properties.SourceArn).includes('{"Fn::GetAtt":["CentralEventBus","Name"]}'));
      // The schedules stay on the default bus.
      for (const [, r] of ofType(t, 'AWS::Events::Rule').filter(([, r]) => r.Properties.ScheduleExpression)) assert.equal(r.Properties.EventBusName, undefined);
    }
  });

  test("the central bus admits PutEvents only from the members' forwarding roles, inside the organisation", () => {
    const bus = resourceOfType(org, 'CentralEventBus', 'AWS::Events::EventBus');
    assert.equal(bus.Name, 'cloudfront-autopublish-dev');
    const policy = resolveParameters(org, bus.Policy);
    const statements = asArray<Json>(policy.Statement);
    assert.equal(statements.length, 1);
    const [s] = statements;
    assert.equal(s.Effect, 'Allow');
    assert.equal(s.Principal, '*');
    assert.deepEqual(asArray(s.Action), ['events:PutEvents']);
    assert.deepEqual(asArray(s.Resource), [{ 'Fn::Sub': 'arn:aws:events:us-east-1:${AWS::AccountId}:event-bus/cloudfront-autopublish-dev' }]);
    // Both conditions hold at once: a principal of the organisation, and a role named as the member
    // template names its forwarding role. Any other principal of a member account (a user, another
    // role) is refused, and so is a role of that name outside the organisation.
    assert.deepEqual(s.Condition, {
      StringEquals: { 'aws:PrincipalOrgID': ORGANIZATION_ID },
      ArnLike: { 'aws:PrincipalArn': `arn:aws:iam::*:role/${FORWARDING_ROLE_NAME}` },
    });
    assert.equal(s.NotPrincipal ?? s.NotAction ?? s.NotResource, undefined);
  });

  test('the sweep worker: SQS event source with partial batch failures and maximum concurrency, the sweep timeout, the same role', () => {
    const worker = fn(org, WORKER_FN);
    assert.equal(worker.Handler, 'handlers/sweep-account.handler');
    assert.equal(worker.Timeout, 600);
    assert.equal(worker.Runtime, 'nodejs22.x');
    assert.deepEqual(worker.Architectures, ['arm64']);
    assert.equal(roleIdOf(org, WORKER_FN), 'SweepWorkerRole');
    const mappings = ofType(org, 'AWS::Lambda::EventSourceMapping');
    assert.equal(mappings.length, 1);
    const m = mappings[0]![1].Properties;
    assert.deepEqual(m.EventSourceArn, { 'Fn::GetAtt': ['SweepQueue', 'Arn'] });
    assert.deepEqual(m.FunctionName, { 'Fn::GetAtt': [WORKER_FN, 'Arn'] });
    assert.deepEqual(m.FunctionResponseTypes, ['ReportBatchItemFailures']);
    assert.equal(m.BatchSize, 1, 'one account per invocation: a batch would share one timeout');
    assert.deepEqual(m.ScalingConfig, { MaximumConcurrency: 10 });
    assert.equal(m.Enabled, true);
    // Nothing invokes it but the queue: no schedule, no rule, no async retries of its own.
    assert.ok(!JSON.stringify(ofType(org, 'AWS::Events::Rule')).includes(WORKER_FN));
    assert.ok(!ofType(org, 'AWS::Lambda::EventInvokeConfig').some(([, r]) => r.Properties.FunctionName.Ref === WORKER_FN));
  });

  test('the sweep queue: encrypted, visibility 6 x the worker timeout, dead-lettered after 3 receives to an encrypted 14-day queue', () => {
    const queue = resourceOfType(org, 'SweepQueue', 'AWS::SQS::Queue');
    const dlq = resourceOfType(org, 'SweepDeadLetterQueue', 'AWS::SQS::Queue');
    assert.equal(queue.SqsManagedSseEnabled, true);
    assert.ok(queue.VisibilityTimeout >= 6 * fn(org, WORKER_FN).Timeout, `visibility ${queue.VisibilityTimeout} s`);
    assert.ok(queue.MessageRetentionPeriod >= 3600 && queue.MessageRetentionPeriod < dlq.MessageRetentionPeriod, 'a dead letter outlives its queue');
    assert.deepEqual(queue.RedrivePolicy, { deadLetterTargetArn: { 'Fn::GetAtt': ['SweepDeadLetterQueue', 'Arn'] }, maxReceiveCount: 3 });
    assert.equal(dlq.SqsManagedSseEnabled, true);
    assert.equal(dlq.MessageRetentionPeriod, 1209600);
    assert.equal(dlq.RedrivePolicy, undefined);
  });

  test("the sweep queue takes messages only from the fan-out's and the event handler's roles (the worker trusts each message's account)", () => {
    for (const t of [org, orgAccounts]) {
      const policies = ofType(t, 'AWS::SQS::QueuePolicy');
      assert.deepEqual(
        policies.map(([id]) => id),
        ['SweepQueuePolicy'],
      );
      const policy = resourceOfType(t, 'SweepQueuePolicy', 'AWS::SQS::QueuePolicy');
      assert.deepEqual(policy.Queues, [{ Ref: 'SweepQueue' }]);
      assert.deepEqual(policy.PolicyDocument.Statement, [
        {
          Sid: 'OnlyTheReconcilerSends',
          Effect: 'Deny',
          Principal: '*',
          Action: 'sqs:SendMessage',
          Resource: { 'Fn::GetAtt': ['SweepQueue', 'Arn'] },
          Condition: { ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::GetAtt': ['SweepFanOutRole', 'Arn'] }, { 'Fn::GetAtt': ['EventHandlerRole', 'Arn'] }] } },
        },
      ]);
      // The two it lets through are exactly the roles the template grants sqs:SendMessage on the queue.
      const senders = ofType(t, 'AWS::IAM::Role')
        .filter(([id]) =>
          effectiveStatements(t, id).some((s) => s.Action.includes('sqs:SendMessage') && JSON.stringify(s.Resource).includes('"SweepQueue","Arn"')),
        )
        .map(([id]) => id)
        .sort();
      assert.deepEqual(senders, ['EventHandlerRole', 'SweepFanOutRole']);
    }
    assert.equal(ofType(plain, 'AWS::SQS::QueuePolicy').length, 0, 'single-account mode has no sweep queue');
  });

  test('alarms: the first dead letter, a failed account sweep, and the worker errors, with the same actions as every other alarm', () => {
    const sqsAlarms = ofType(org, 'AWS::CloudWatch::Alarm')
      .map(([id, r]) => [id, r.Properties] as const)
      .filter(([, p]) => p.Namespace === 'AWS/SQS');
    assert.deepEqual(sqsAlarms.map(([id]) => id).sort(), ['FailedInvocationsAlarm', 'SweepDeadLetterAlarm']);
    const dead = resourceOfType(org, 'SweepDeadLetterAlarm', 'AWS::CloudWatch::Alarm');
    assert.equal(dead.MetricName, 'ApproximateNumberOfMessagesVisible');
    assert.deepEqual(dead.Dimensions, [{ Name: 'QueueName', Value: { 'Fn::GetAtt': ['SweepDeadLetterQueue', 'QueueName'] } }]);
    assert.equal(dead.Threshold, 1);
    assert.equal(dead.ComparisonOperator, 'GreaterThanOrEqualToThreshold');
    assert.equal(dead.TreatMissingData, 'notBreaching');
    const errors = resourceOfType(org, 'SweepWorkerErrorsAlarm', 'AWS::CloudWatch::Alarm');
    assert.equal(errors.Namespace, 'AWS/Lambda');
    assert.equal(errors.MetricName, 'Errors');
    assert.deepEqual(errors.Dimensions, [{ Name: 'FunctionName', Value: { Ref: WORKER_FN } }]);
    assert.equal(errors.Threshold, 1);
    // The worker answers success with failed accounts in batchItemFailures: only our own count sees them at once.
    const account = resourceOfType(org, 'AccountSweepFailedAlarm', 'AWS::CloudWatch::Alarm');
    assert.equal(account.Namespace, METRICS_NAMESPACE);
    assert.equal(account.MetricName, 'account-sweep-failed');
    assert.ok((INVOCATION_METRICS as readonly string[]).includes(account.MetricName), 'a metric the code emits');
    assert.deepEqual(account.Dimensions, [{ Name: 'service', Value: SERVICE }]);
    assert.equal(account.Period, 300);
    assert.equal(account.Threshold, 1);
    const reference = org.template.Resources.FailedInvocationsAlarm!.Properties;
    assert.ok(reference.AlarmActions, 'the reference alarm has its actions');
    for (const [id, p] of [
      ['SweepDeadLetterAlarm', dead],
      ['AccountSweepFailedAlarm', account],
      ['SweepWorkerErrorsAlarm', errors],
    ] as const) {
      assert.deepEqual(p.AlarmActions, reference.AlarmActions, id);
      assert.deepEqual(p.OKActions, reference.OKActions, id);
    }
  });

  test('IAM: every statement of the three roles is an Allow of named actions, none of them CloudFront; Resource "*" only for ListAccounts', () => {
    for (const t of [org, orgAccounts]) {
      for (const id of functionIds(t)) {
        const statements = effectiveStatements(t, roleIdOf(t, id));
        for (const s of statements) {
          assert.equal(s.Effect, 'Allow');
          assert.equal(s.NotAction, undefined);
          assert.equal(s.NotResource, undefined);
          assert.equal((s as Json).Condition, undefined);
          for (const action of s.Action) {
            assert.ok(!action.includes('*'), `wildcard action ${action}`);
            assert.match(action, /^(logs|sqs|sts|organizations|events|s3|ssm|sns):/, `unexpected service in ${action}`);
          }
          if (s.Resource.includes('*')) assert.deepEqual(s.Action, ['organizations:ListAccounts'], `${id}: Resource "*"`);
        }
        // The roles act on CloudFront only through member roles.
        assert.ok(!statements.some((s) => s.Action.some((a) => a.startsWith('cloudfront:'))), id);
      }
    }
  });

  test('IAM: one role per function, each with exactly what that function uses', () => {
    // Resource as written: a GetAtt names a resource of this stack; literals are evaluated.
    const grants = (t: Packaged, functionId: string) =>
      effectiveStatements(t, roleIdOf(t, functionId))
        .flatMap((s) =>
          s.Action.flatMap((a) =>
            s.Resource.flatMap((r) => {
              if (r?.['Fn::GetAtt']) return [`${a} ${r['Fn::GetAtt'][0]}`];
              if (r?.['Fn::Sub'] && typeof r['Fn::Sub'] === 'string') return [`${a} ${r['Fn::Sub']}`];
              return asArray(literal(r)).map((x) => `${a} ${x}`);
            }),
          ),
        )
        .sort();
    const roles = (t: Packaged) => [EVENT_FN, SWEEP_FN, WORKER_FN].map((id) => roleIdOf(t, id));
    for (const [t, listed] of [
      [org, false],
      [orgAccounts, true],
    ] as const) {
      assert.deepEqual(roles(t), ['EventHandlerRole', 'SweepFanOutRole', 'SweepWorkerRole'], 'three roles, one per function');
      assert.equal(new Set(roles(t)).size, 3);
      assert.equal(t.template.Resources.ReconcilerRole, undefined, 'no shared role left in organisation mode');
      for (const id of roles(t)) {
        const trust = asArray<Json>(t.template.Resources[id]!.Properties.AssumeRolePolicyDocument.Statement);
        assert.deepEqual(trust, [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }], `${id}: only Lambda`);
      }
      const assume = listed
        ? MEMBER_ACCOUNTS.split(',').map((a) => `sts:AssumeRole arn:aws:iam::${a}:role/cloudfront-autopublish-member`)
        : [`sts:AssumeRole ${MEMBER_ROLE_ARN}`];
      const listAccounts = listed ? [] : ['organizations:ListAccounts *'];
      const logs = (group: string) => [`logs:CreateLogStream ${group}`, `logs:PutLogEvents ${group}`];
      const label = listed ? 'with memberAccounts' : 'without memberAccounts';
      // The roles that reconcile read the pause and save history before a publish; the fan-out does neither.
      const reconciling = ['ssm:GetParameter arn:aws:ssm:us-east-1:${AWS::AccountId}:parameter${PauseParameter}', 's3:PutObject ${HistoryBucket.Arn}/*'];
      assert.deepEqual(
        grants(t, EVENT_FN),
        [
          ...assume,
          ...listAccounts,
          ...logs('OnFunctionChangeLogGroup'),
          'sqs:SendMessage FailedInvocationsQueue',
          'sqs:SendMessage SweepQueue',
          ...reconciling,
        ].sort(),
        `the event handler ${label}: member roles, its log group, the failure queue, one sweep message for a record naming no function, the pause, history`,
      );
      assert.deepEqual(
        grants(t, SWEEP_FN),
        [...listAccounts, 'sqs:SendMessage SweepQueue', ...logs('DriftSweepLogGroup'), 'sqs:SendMessage FailedInvocationsQueue'].sort(),
        `the fan-out ${label}: the member list, the sweep queue, its log group, its on-failure destination; no account`,
      );
      assert.deepEqual(
        grants(t, WORKER_FN),
        [
          ...assume,
          'sqs:ReceiveMessage SweepQueue',
          'sqs:DeleteMessage SweepQueue',
          'sqs:GetQueueAttributes SweepQueue',
          'sqs:SendMessage SweepDeadLetterQueue',
          ...logs('SweepAccountLogGroup'),
          ...reconciling,
        ].sort(),
        `the worker ${label}: member roles, reads the sweep queue, sends only to its dead-letter queue, its log group; never ListAccounts (it trusts the queue)`,
      );
    }
  });

  test('the event handler can ask for a sweep of a member account (a record naming no function): SWEEP_QUEUE_URL and sqs:SendMessage on the sweep queue', () => {
    assert.deepEqual(fn(org, EVENT_FN).Environment.Variables.SWEEP_QUEUE_URL, { Ref: 'SweepQueue' });
    const sweep = JSON.stringify({ 'Fn::GetAtt': ['SweepQueue', 'Arn'] });
    assert.ok(
      effectiveStatements(org, roleIdOf(org, EVENT_FN)).some(
        (s) => s.Effect === 'Allow' && s.Action.includes('sqs:SendMessage') && s.Resource.some((r) => JSON.stringify(r) === sweep),
      ),
    );
  });

  test('IAM: test-case reads and announcements go to the roles that reconcile (event handler, worker), never the fan-out', () => {
    // The same params that switch them on in single-account mode.
    for (const policy of ['TestCasesReadPolicy', 'EventBusPublishPolicy']) {
      const resource = org.template.Resources[policy];
      assert.ok(resource, policy);
      assert.deepEqual(resource.Properties.Roles, [{ Ref: 'EventHandlerRole' }, { Ref: 'SweepWorkerRole' }], policy);
    }
    assert.deepEqual(plain.template.Resources.TestCasesReadPolicy?.Properties.Roles, [{ Ref: 'ReconcilerRole' }]);
  });

  test('environment: every function knows the mode, the member role, the member accounts and the sweep queue', () => {
    for (const [t, accounts] of [
      [org, ''],
      [orgAccounts, MEMBER_ACCOUNTS],
    ] as const) {
      assert.deepEqual(functionIds(t).sort(), [SWEEP_FN, EVENT_FN, WORKER_FN].sort());
      for (const id of functionIds(t)) {
        const env = resolveParameters(t, fn(t, id).Environment.Variables);
        assert.deepEqual(
          Object.fromEntries(ORG_ENV.map((k) => [k, env[k]])),
          { ORGANIZATION_MODE: 'true', MEMBER_ROLE_NAME: 'cloudfront-autopublish-member', MEMBER_ACCOUNTS: accounts, SWEEP_QUEUE_URL: { Ref: 'SweepQueue' } },
          id,
        );
        assert.equal(env.AUTO_PUBLISH_TAG_KEY, 'auto-publish', `${id}: the shared environment too`);
      }
      assert.deepEqual(fn(t, EVENT_FN).Environment.Variables.FAILURE_QUEUE_URL, { Ref: 'FailedInvocationsQueue' });
      // Only the worker sends to the sweep dead-letter queue (a message that can never succeed, at once).
      assert.deepEqual(fn(t, WORKER_FN).Environment.Variables.SWEEP_DEAD_LETTER_QUEUE_URL, { Ref: 'SweepDeadLetterQueue' });
      for (const id of [EVENT_FN, SWEEP_FN]) assert.equal(fn(t, id).Environment.Variables.SWEEP_DEAD_LETTER_QUEUE_URL, undefined, id);
      const pattern = new RegExp(t.template.Parameters!.MemberAccounts!['AllowedPattern' as never] as string);
      assert.ok(pattern.test('') && pattern.test(MEMBER_ACCOUNTS) && !pattern.test('1234') && !pattern.test('111122223333, 444455556666'));
    }
  });

  test('outputs: the two roles the member template trusts, the central bus and the sweep queue', () => {
    const outputs = deployedOutputs(org);
    assert.deepEqual(outputs.EventHandlerRoleArn, { 'Fn::GetAtt': ['EventHandlerRole', 'Arn'] });
    assert.deepEqual(outputs.SweepWorkerRoleArn, { 'Fn::GetAtt': ['SweepWorkerRole', 'Arn'] });
    assert.equal(outputs.ReconcilerRoleArn, undefined, 'the fan-out enters no account: its role is no output');
    assert.deepEqual(outputs.CentralEventBusArn, { 'Fn::GetAtt': ['CentralEventBus', 'Arn'] });
    assert.deepEqual(outputs.SweepQueueUrl, { Ref: 'SweepQueue' });
    for (const name of ORG_OUTPUTS) assert.equal(org.template.Outputs![name]!.Export, undefined, `${name} is not exported`);
  });

  test("dashboard: the worker's invocations, errors, throttles and duration, the sweep queue and its dead letters, every alarm", () => {
    const metrics = graphedMetrics(org);
    const names = functionIds(org).map((id) => fn(org, id).FunctionName as string);
    const worker = fn(org, WORKER_FN).FunctionName as string;
    const has = (namespace: string, name: string, dimensions: Record<string, string>) =>
      metrics.some((m) => m.namespace === namespace && m.name === name && JSON.stringify(m.dimensions) === JSON.stringify(dimensions));
    for (const metric of ['Invocations', 'Errors', 'Throttles', 'Duration']) assert.ok(has('AWS/Lambda', metric, { FunctionName: worker }), metric);
    for (const queue of ['SweepQueue', 'SweepDeadLetterQueue'])
      assert.ok(has('AWS/SQS', 'ApproximateNumberOfMessagesVisible', { QueueName: `queue-name-of-${queue}` }), queue);
    for (const m of metrics.filter((m) => m.namespace === 'AWS/Lambda'))
      assert.ok(names.includes(m.dimensions.FunctionName!), `${m.widget}: ${JSON.stringify(m.dimensions)}`);
    for (const m of metrics.filter((m) => m.namespace === METRICS_NAMESPACE)) assert.ok(EMITTED.has(m.name), m.name);
    assertAlarmWidgetShowsEveryAlarm(org);
  });

  test('the worker is its own bundled zip of at most 250 KB', (t) => {
    const zip = join(org.dir, 'sweepAccount.zip');
    assert.ok(existsSync(zip), `${zip} missing`);
    const size = statSync(zip).size;
    t.diagnostic(`sweepAccount.zip: ${(size / 1024).toFixed(1)} KB zipped`);
    assert.ok(size <= ZIP_LIMIT, `sweepAccount.zip is ${size} bytes`);
    assertSelfContained('sweepAccount', zipEntries(zip), 'handlers/sweep-account.mjs');
  });
});
