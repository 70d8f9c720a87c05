/**
 * Settings refused at deploy, not at run time (docs/settings.md): every value lib/config.ts refuses is
 * refused by the packaging check too (local/settings-params.cjs, the resolver serverless.yml runs),
 * with the same words naming the param. Both read the one table of lib/settings.ts; the resolver is
 * called here in-process, as osls calls it, with the params serverless.yml declares. Real
 * `serverless package` runs of the same resolver: test/serverless-template.test.ts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../lib/config';
import { ORGANIZATION_SETTINGS, paramSettings, SETTINGS } from '../lib/settings';
import { readServerlessConfig } from '../local/serverless-rules';

type Resolver = (args: {
  options: Record<string, unknown>;
  resolveVariable: (v: string) => Promise<unknown>;
  resolveConfigurationProperty: (path: string[]) => Promise<unknown>;
}) => Promise<{ checked: number; unknown: number }>;

const resolveSettings = require('../local/settings-params.cjs') as Resolver;
const resolveRegion = require('../local/only-region.cjs') as (args: { options: Record<string, unknown> }) => Promise<string>;

const yml = readServerlessConfig() as { params: Record<string, Record<string, unknown>> };
const DECLARED = yml.params.default!;

/** The resolver as osls runs it: `--param` options over params.default (osls trims the end of a CLI value). */
function packageWith(cli: Record<string, string>, extra: Record<string, unknown> = {}) {
  const params = { default: DECLARED, ...extra };
  return resolveSettings({
    options: { param: Object.entries(cli).map(([k, v]) => `${k}=${v}`) },
    resolveVariable: async (variable) => {
      const name = variable.replace(/^param:/, '');
      if (name in cli) return cli[name]!.trimEnd();
      return DECLARED[name] ?? null;
    },
    resolveConfigurationProperty: async ([first]) => (first === 'params' ? params : undefined),
  });
}

const ALL = { ...SETTINGS, ...ORGANIZATION_SETTINGS };

/** Params and values the functions refuse, at least one for every param the table maps to a setting. */
const REFUSED: readonly (readonly [param: string, value: string])[] = [
  ['dryRun', 'maybe'],
  ['dryRun', '1'],
  ['publishGate', 'strict'],
  ['maxComputeUtilization', '150'],
  ['maxComputeUtilization', '0'],
  ['allowedNames', ','],
  ['allowedNames', 'edge-*,../etc'],
  ['tagKey', 'bad<key>'],
  ['tagKey', ' auto-publish'],
  ['tagValue', 'x'.repeat(257)],
  ['eventBusName', 'bad bus!'],
  ['sweepConcurrency', '65'],
  ['sweepConcurrency', 'four'],
  ['maxCallsPerSecond', '0'],
  ['maxCallsPerSecond', '2.5'],
  ['testCasesBuckets', 'Edge_Tests'],
  ['testCasesBuckets', ' , '],
  ['organizationMode', 'maybe'],
  ['pauseCacheSeconds', '3601'],
  ['associationsTtlSeconds', '3601'],
  ['associationsTtlSeconds', '-1'],
  ['associationsTtlSeconds', '1.5'],
  ['alarmTopicArn', 'arn:aws:sns:us-east-1:123:x'],
  ['outOfSyncMinutes', '0'],
  ['memberRoleName', 'no spaces allowed'],
  ['memberAccounts', '1234'],
  ['memberAccounts', '111122223333,abc'],
];

function settingOf(param: string) {
  const setting = paramSettings().find((s) => s.param === param);
  assert.ok(setting, `${param} is not in the settings table`);
  return setting;
}

/** What lib/config.ts says about the value, without the variable's name. */
function configRefusal(env: string, value: string): string {
  // The organisation settings are read only in organisation mode.
  const organization = Object.values(ORGANIZATION_SETTINGS).some((s) => s.env === env) ? { ORGANIZATION_MODE: 'true' } : {};
  try {
    loadConfig({ ...organization, [env]: value });
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.variable, env);
    assert.ok(error.message.startsWith(`${env}: `), error.message);
    return error.message.slice(env.length + 2);
  }
  return assert.fail(`lib/config.ts accepts ${env}=${JSON.stringify(value)}`);
}

for (const [param, value] of REFUSED) {
  test(`${param}=${JSON.stringify(value).slice(0, 30)}: refused by lib/config.ts and by packaging, with the same message naming the param`, async () => {
    const { env } = settingOf(param);
    const detail = configRefusal(env, value);
    await assert.rejects(packageWith({ [param]: value }), (error: Error) => {
      assert.ok(error.message.includes(`${param}: ${detail} (the functions' ${env})`), `packaging said:\n${error.message}\nconfig said:\n${env}: ${detail}`);
      return true;
    });
  });
}

test('every param the table maps to a setting has a refused value above, and is declared in serverless.yml with a default the functions accept', async () => {
  const refusedParams = new Set(REFUSED.map(([param]) => param));
  for (const s of paramSettings()) {
    assert.ok(refusedParams.has(s.param!), `no refused value for ${s.param} (${s.env})`);
    assert.ok(s.param! in DECLARED, `${s.param} is not in serverless.yml's params.default`);
  }
  // The declared defaults pass, and mean what the code's defaults mean.
  assert.deepEqual(await packageWith({}), { checked: paramSettings().length, unknown: 0 });
  const fromParams = loadConfig(Object.fromEntries(paramSettings().map((s) => [s.env, String(DECLARED[s.param!])])));
  const fromNothing = loadConfig({});
  for (const [field, s] of Object.entries(SETTINGS)) {
    if (s.param === undefined || field === 'eventBusName' || field === 'alarmTopicArn') continue;
    assert.deepEqual(fromParams[field as keyof typeof fromParams], fromNothing[field as keyof typeof fromNothing], `${s.param}'s default`);
  }
  assert.equal(ALL.memberRoleName.parse(String(DECLARED.memberRoleName)), ALL.memberRoleName.parse(undefined));
});

test('several refused params are all named at once', async () => {
  await assert.rejects(packageWith({ dryRun: 'maybe', publishGate: 'strict' }), /dryRun: .*; publishGate: /);
});

test('values the functions accept package', async () => {
  const accepted = await packageWith({
    dryRun: 'TRUE',
    publishGate: 'off',
    maxComputeUtilization: '100',
    allowedNames: 'edge-*,auth',
    maxCallsPerSecond: '24',
    memberAccounts: '111122223333,444455556666',
  });
  assert.equal(accepted.unknown, 0);
});

test('a misspelt param is a warning naming the closest one; with strictParams=true, an error', async (t) => {
  const warnings: string[] = [];
  t.mock.method(process.stderr, 'write', (chunk: string) => warnings.push(String(chunk)) > 0);
  assert.equal((await packageWith({ dryrun: 'true' })).unknown, 1);
  t.mock.restoreAll();
  assert.equal(warnings.length, 1, warnings.join(''));
  assert.match(warnings[0]!, /--param=dryrun=true: dryrun is not a param of this service \(did you mean dryRun\?\); it sets nothing/);
  assert.match(warnings[0]!, /strictParams=true/);

  await assert.rejects(
    packageWith({ dryrun: 'true', strictParams: 'true' }),
    /dryrun is not a param of this service \(did you mean dryRun\?\).*\(strictParams=true\)/,
  );
  // A stage's own section of params is checked the same way.
  await assert.rejects(
    packageWith({ strictParams: 'true' }, { prod: { publishgate: 'off' } }),
    /params\.prod\.publishgate: publishgate is not a param .*did you mean publishGate/,
  );
  await assert.rejects(packageWith({ strictParams: 'yes' }), /strictParams: "yes" is not true or false/);
});

test('any region but us-east-1 is refused at packaging, saying why', async () => {
  assert.equal(await resolveRegion({ options: {} }), 'us-east-1');
  assert.equal(await resolveRegion({ options: { region: 'us-east-1' } }), 'us-east-1');
  await assert.rejects(resolveRegion({ options: { region: 'eu-west-1' } }), (error: Error) => {
    assert.match(error.message, /region "eu-west-1": cloudfront-autopublish deploys to us-east-1 only/);
    assert.match(error.message, /CloudTrail events reach EventBridge in us-east-1 only/);
    return true;
  });
});

test('docs/settings.md lists every setting of the table: its variable, and its param when it has one', () => {
  const doc = readFileSync(join(__dirname, '..', 'docs', 'settings.md'), 'utf8');
  for (const s of Object.values(ALL)) {
    assert.ok(doc.includes(`\`${s.env}\``), `docs/settings.md does not name ${s.env}`);
    if (s.param !== undefined) assert.ok(doc.includes(`| \`${s.param}\``), `docs/settings.md has no row for the param ${s.param}`);
  }
});
