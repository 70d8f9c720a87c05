// The params that become the functions' settings, checked when serverless.yml is resolved (so at
// package time, before anything deploys) by the parsers lib/config.ts reads the environment with: the
// table in lib/settings.ts. A value the functions would refuse on every invocation is refused here,
// with the same words, naming the param (docs/settings.md). Also reported: a param that
// params.default does not declare (`--param=dryrun=true` sets nothing): a warning, or with
// strictParams=true an error.
//
// serverless runs this file with plain Node, so it bundles lib/settings.ts with esbuild in memory
// (about 0.1 s; serverless-esbuild already needs esbuild) rather than keeping a JavaScript copy.
'use strict';

const { join } = require('node:path');

let table;
/** lib/settings.ts, compiled once per process. */
function settings() {
  if (table) return table;
  const { buildSync } = require('esbuild');
  const [bundle] = buildSync({
    entryPoints: [join(__dirname, '..', 'lib', 'settings.ts')],
    bundle: true,
    write: false,
    format: 'cjs',
    platform: 'node',
    target: 'node20',
  }).outputFiles;
  const loaded = { exports: {} };
  new Function('module', 'exports', 'require', bundle.text)(loaded, loaded.exports, require);
  table = loaded.exports;
  return table;
}

// osls prints a failing resolver's stack: make it the message alone, which says all there is to say.
const refuse = (message) => Object.assign(new Error(message), { stack: message });

/** Edit distance, to name the declared param a misspelt one was probably meant to be. */
function distance(a, b) {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

function closest(name, known) {
  let best;
  for (const candidate of known) {
    const d = distance(name.toLowerCase(), candidate.toLowerCase());
    if (d <= 3 && (best === undefined || d < best.d)) best = { candidate, d };
  }
  return best ? ` (did you mean ${best.candidate}?)` : '';
}

/** The names of every param given: on the command line, and in each stage's section of params. */
function givenParams(options, params) {
  const given = [];
  const cli = options.param == null ? [] : [].concat(options.param);
  for (const item of cli) given.push({ name: String(item).split('=')[0], where: `--param=${item}` });
  for (const [stage, section] of Object.entries(params ?? {})) {
    if (stage === 'default' || section === null || typeof section !== 'object') continue;
    for (const name of Object.keys(section)) given.push({ name, where: `params.${stage}.${name}` });
  }
  return given;
}

module.exports = async ({ options, resolveVariable, resolveConfigurationProperty }) => {
  const { boolean, paramSettings, refusedParams, SettingRefused } = settings();
  const param = async (name) => {
    const value = await resolveVariable(`param:${name}`);
    return value === null || value === undefined ? undefined : String(value);
  };

  let strict;
  try {
    strict = boolean(false)(await param('strictParams'));
  } catch (error) {
    if (error instanceof SettingRefused) throw refuse(`strictParams: ${error.message}`);
    throw error;
  }
  const params = await resolveConfigurationProperty(['params']);
  const known = Object.keys(params?.default ?? {});
  const unknown = givenParams(options, params)
    .filter(({ name }) => !known.includes(name))
    .map(({ name, where }) => `${where}: ${name} is not a param of this service${closest(name, known)}; it sets nothing`);
  if (unknown.length > 0 && strict) throw refuse(`${unknown.join('; ')} (strictParams=true)`);
  for (const line of unknown) process.stderr.write(`Warning: ${line}. With --param=strictParams=true this fails packaging.\n`);

  const values = {};
  for (const setting of paramSettings()) values[setting.param] = await param(setting.param);
  const refused = refusedParams(values);
  if (refused.length > 0) throw refuse(refused.join('; '));
  return { checked: Object.keys(values).length, unknown: unknown.length };
};
