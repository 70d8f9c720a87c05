/**
 * What each command accepts: its arguments, its options and its help. The parser refuses anything
 * else before a command runs, so `sweep my-fn` is a usage error (exit 2), never a full sweep
 * (docs/cli-contract.md).
 */
import { parseArgs } from 'node:util';
import { UsageError } from './io';

export const OPTIONS = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  profile: { type: 'string' },
  'tag-key': { type: 'string' },
  'tag-value': { type: 'string' },
  'dry-run': { type: 'boolean' },
  json: { type: 'boolean' },
  check: { type: 'boolean' },
  port: { type: 'string' },
  account: { type: 'string' },
  cases: { type: 'string' },
  'event-type': { type: 'string' },
  kind: { type: 'string' },
  stage: { type: 'string' },
  variant: { type: 'string', multiple: true },
  keep: { type: 'boolean' },
  accounts: { type: 'string' },
  'history-bucket': { type: 'string' },
  to: { type: 'string' },
  steps: { type: 'string' },
  yes: { type: 'boolean' },
  reason: { type: 'string' },
  'pause-parameter': { type: 'string' },
  sweep: { type: 'boolean' },
  timeout: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean' },
} as const;

export type OptionName = keyof typeof OPTIONS;

/** Where the CLI points, and as whom: every command that calls AWS takes these. */
const TARGET: readonly OptionName[] = ['endpoint', 'region', 'profile'];
const OPT_IN: readonly OptionName[] = ['tag-key', 'tag-value'];
const PAUSE: readonly OptionName[] = ['stage', 'pause-parameter'];

export interface CommandSpec {
  /** The synopsis after `cf-autopublish`. */
  readonly synopsis: string;
  readonly summary: string;
  /** How many positional arguments after the command it takes. */
  readonly args: { readonly min: number; readonly max: number; readonly what: string };
  readonly options: readonly OptionName[];
}

export const COMMANDS = {
  status: {
    synopsis: 'status [--check] [--json]',
    summary:
      'every function of both kinds, with its KIND: opted in, DEVELOPMENT status\nand ETag, LIVE ETag, in sync; --check: exit 4 when an opted-in function\nis not in sync',
    args: { min: 0, max: 0, what: 'no function name (it lists them all)' },
    options: [...TARGET, ...OPT_IN, ...PAUSE, 'check', 'json'],
  },
  sweep: {
    synopsis: 'sweep [--dry-run] [--json]',
    summary: 'the drift sweep: publish every opted-in function (both kinds) whose LIVE differs',
    args: { min: 0, max: 0, what: 'no function name (it sweeps them all; `reconcile NAME` does one)' },
    options: [...TARGET, ...OPT_IN, 'history-bucket', 'dry-run', 'json'],
  },
  reconcile: {
    synopsis: 'reconcile <name> [--kind function|connection] [--dry-run] [--json]',
    summary: 'reconcile one function now; exit 3 when the gate blocks it',
    args: { min: 1, max: 1, what: 'exactly one function name' },
    options: [...TARGET, ...OPT_IN, 'kind', 'history-bucket', 'dry-run', 'json'],
  },
  test: {
    synopsis:
      'test <name> [--kind function|connection] [--cases FILE|s3://BUCKET/KEY]\n     [--event-type viewer-request|viewer-response|connection-request]\n     [--stage DEVELOPMENT|LIVE] [--json]',
    summary: 'run the publish gate (TestFunction, TestConnectionFunction) on a function;\nexit 3 if it would block',
    args: { min: 1, max: 1, what: 'exactly one function name' },
    options: [...TARGET, ...OPT_IN, 'kind', 'cases', 'event-type', 'stage', 'json'],
  },
  wait: {
    synopsis: 'wait <name> [--kind function|connection] [--timeout S] [--json]',
    summary:
      'for CI: wait until LIVE equals DEVELOPMENT (exit 0); meanwhile runs the gate\non the DEVELOPMENT ETag (a test only, never a publish): exit 3 if it would block;\nexit 1 on timeout (default 300 s) or when the function is not opted in',
    args: { min: 1, max: 1, what: 'exactly one function name' },
    options: [...TARGET, ...OPT_IN, 'kind', 'timeout', 'json'],
  },
  history: {
    synopsis: 'history <name> [--kind function|connection] [--history-bucket BUCKET] [--json]',
    summary: 'the saved versions of a function (time, ETag, who replaced it and with\nwhat), and its LIVE and DEVELOPMENT ETags',
    args: { min: 1, max: 1, what: 'exactly one function name' },
    options: [...TARGET, ...OPT_IN, 'kind', 'history-bucket', 'json'],
  },
  diff: {
    synopsis: 'diff <name> [FROM [TO]] [--kind function|connection] [--history-bucket BUCKET]',
    summary: 'unified diff of FROM against TO: LIVE, DEVELOPMENT or a saved key (from\n`history`); default LIVE against DEVELOPMENT',
    args: { min: 1, max: 3, what: 'a function name and at most two versions (LIVE, DEVELOPMENT or a saved key)' },
    options: [...TARGET, ...OPT_IN, 'kind', 'history-bucket'],
  },
  rollback: {
    synopsis: 'rollback <name> [--kind function|connection] [--to KEY | --steps N] [--yes]\n     [--history-bucket BUCKET]',
    summary:
      'write a saved version (default: the last one replaced, --steps 1) back to\nDEVELOPMENT with your own credentials (UpdateFunction or\nUpdateConnectionFunction), run the gate and publish it;\nwithout --yes, only say what it would do',
    args: { min: 1, max: 1, what: 'exactly one function name' },
    options: [...TARGET, ...OPT_IN, 'kind', 'history-bucket', 'to', 'steps', 'yes'],
  },
  pause: {
    synopsis: 'pause --reason TEXT',
    summary:
      'hold every publish (writes "paused: TEXT" to the pause parameter, with\nyour credentials); the reconciler still reads, tests nothing, publishes nothing',
    args: { min: 0, max: 0, what: 'no argument (the reason goes in --reason)' },
    options: [...TARGET, ...PAUSE, 'reason'],
  },
  resume: {
    synopsis: 'resume [--sweep]',
    summary: 'publish again (writes "active"); the next sweep publishes what was held,\n--sweep runs one now',
    args: { min: 0, max: 0, what: 'no argument' },
    options: [...TARGET, ...OPT_IN, ...PAUSE, 'history-bucket', 'sweep'],
  },
  emulator: {
    synopsis: 'emulator [--port N] [--account ID] [--variant NAME=VALUE ...]',
    summary: 'run the embedded CloudFront emulator alone, printing each CloudTrail\nrecord (variants: emulator/VARIANTS.md)',
    args: { min: 0, max: 0, what: 'no argument' },
    options: ['port', 'account', 'variant'],
  },
  demo: {
    synopsis: 'demo [--keep] [--accounts N]',
    summary:
      'the whole flow on the embedded emulator (what `npm start` runs);\n--keep: keep it running, printing each publish;\n--accounts N: organisation mode over N member accounts',
    args: { min: 0, max: 0, what: 'no argument' },
    options: ['keep', 'accounts'],
  },
} as const satisfies Record<string, CommandSpec>;

export type CommandName = keyof typeof COMMANDS;

/** What each option means, for the help texts. */
const DESCRIPTIONS: Record<OptionName, string> = {
  endpoint:
    "--endpoint URL            CloudFront endpoint (e.g. the emulator's), and S3's unless S3_ENDPOINT\n                            is set; default: AWS",
  region: '--region REGION           signing region (default us-east-1; CloudFront is global)',
  profile: '--profile NAME            AWS profile from the shared config files',
  'tag-key': '--tag-key KEY             opt-in tag key (default auto-publish)',
  'tag-value': '--tag-value VALUE         opt-in tag value (default true)',
  'history-bucket': "--history-bucket BUCKET   the history bucket (default: HISTORY_BUCKET; the stack's HistoryBucketName output)",
  json: '--json                    machine-readable output, schema docs/cli-output.schema.json',
  check: '--check                   exit 4 when an opted-in function is not in sync',
  'dry-run': '--dry-run                 decide, publish nothing',
  stage:
    "--stage STAGE             test: DEVELOPMENT or LIVE; status, pause, resume: the deployment's stage,\n                            for its pause parameter (default dev)",
  'pause-parameter':
    '--pause-parameter NAME    the pause parameter (default PAUSE_PARAMETER, else\n                            /cloudfront-autopublish/<stage>/pause)',
  cases: '--cases FILE|s3://B/K     the gate test cases to run',
  'event-type': '--event-type TYPE         viewer-request or viewer-response; connection-request for a\n                            connection function',
  kind: '--kind KIND               function or connection: which kind NAME is, when both kinds have it',
  timeout: '--timeout S               wait: give up after S seconds (default 300)',
  to: '--to KEY                  rollback: the saved version to restore',
  steps: '--steps N                 rollback: the Nth version replaced, newest first (default 1)',
  yes: '--yes                     rollback: do it, not only say what it would do',
  reason: '--reason TEXT             pause: why (every held outcome says it)',
  sweep: '--sweep                   resume: sweep now',
  port: '--port N                  emulator: the port (default: any free one)',
  account: '--account ID              emulator: its account ID',
  variant: '--variant NAME=VALUE      emulator: a behaviour variant, repeatable',
  keep: '--keep                    demo: keep running, print each publish as it happens',
  accounts: '--accounts N              demo: organisation mode over N member accounts (1-50)',
  help: '-h, --help                this text; `cf-autopublish <command> --help` for one command',
  version: '--version                 the version',
};

const GLOBAL: readonly OptionName[] = [...TARGET, ...OPT_IN, 'history-bucket', 'json', 'stage', 'pause-parameter', 'help', 'version'];

export const USAGE = `Usage: cf-autopublish <command> [options]

Commands:
${Object.values(COMMANDS)
  .map((c) => {
    const synopsis = `  ${c.synopsis}`;
    const summary = c.summary.split('\n').map((line) => `${' '.repeat(28)}${line}`);
    if (!synopsis.includes('\n') && synopsis.length < 27) return [`${synopsis.padEnd(28)}${c.summary.split('\n')[0]}`, ...summary.slice(1)].join('\n');
    return [synopsis.replace(/\n/g, '\n  '), ...summary].join('\n');
  })
  .join('\n')}

Options (each command's own: cf-autopublish <command> --help):
${GLOBAL.map((o) => `  ${DESCRIPTIONS[o]}`).join('\n')}

Exit codes: 0 done, all in sync; 1 error; 2 bad usage; 3 blocked by the gate (reconcile, test, wait);
4 status --check found opted-in functions out of sync (docs/cli-contract.md)`;

export function commandHelp(name: CommandName): string {
  const spec: CommandSpec = COMMANDS[name];
  return [
    `Usage: cf-autopublish ${spec.synopsis.replace(/\n/g, '\n                      ')}`,
    '',
    spec.summary,
    '',
    'Options:',
    ...[...spec.options, 'help' as const].map((o) => `  ${DESCRIPTIONS[o]}`),
  ].join('\n');
}

export const isCommand = (name: string): name is CommandName => Object.hasOwn(COMMANDS, name);

/** Levenshtein distance: how many single-character edits turn `a` into `b`. */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length]!;
}

/** The closest of `candidates` to `typed`; ties go to the first. */
export function closest(typed: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const d = editDistance(typed, candidate);
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  return best;
}

export interface Parsed {
  readonly command: CommandName | undefined;
  readonly args: readonly string[];
  readonly values: ReturnType<typeof strictParse>['values'];
}

function strictParse(argv: readonly string[]) {
  return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
}

const spelled = (name: string) => (name.length === 1 ? `-${name}` : `--${name}`);

/**
 * The command line, checked against the command it names: an unknown option names the closest one
 * the command takes, an option of another command or a stray argument is refused, in one line.
 */
export function parseCommandLine(argv: readonly string[]): Parsed {
  try {
    return parseChecked(argv);
  } catch (error) {
    // The command, when one was named, so the error line can point at its own help.
    if (error instanceof UsageError) {
      const named = argv.find((a) => isCommand(a));
      if (named) error.command = named;
    }
    throw error;
  }
}

function parseChecked(argv: readonly string[]): Parsed {
  // Tokens first, loosely: Node's strict parser stops at the first unknown option with a message
  // about `--` that does not say what was meant.
  const { tokens, positionals } = parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: false, tokens: true });
  const first = positionals[0];
  const command = first !== undefined && isCommand(first) ? first : undefined;
  if (first !== undefined && first !== 'help' && command === undefined) {
    throw new UsageError(`unknown command "${first}"${suggestion(first, Object.keys(COMMANDS), 'command')}`);
  }
  const allowed: readonly string[] = command ? [...COMMANDS[command].options, 'help', 'version'] : GLOBAL;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (Object.hasOwn(OPTIONS, token.name)) {
      if (command && !allowed.includes(token.name)) throw new UsageError(`${command} does not take ${spelled(token.name)}`);
      continue;
    }
    throw new UsageError(`unknown option ${token.rawName}${suggestion(token.name, allowed, 'option')}`);
  }
  let values: Parsed['values'];
  try {
    ({ values } = strictParse(argv));
  } catch (error) {
    // What is left is a value missing or given to a switch: say which option, not the parser's code.
    const message = error instanceof Error ? (error.message.split('\n')[0] ?? 'bad option') : String(error);
    const option = /'(--?[\w-]+)/.exec(message)?.[1];
    const code = (error as { code?: string }).code;
    if (option && code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') {
      const name = option.replace(/^-+/, '') as OptionName;
      throw new UsageError(OPTIONS[name]?.type === 'string' ? `${option} needs a value` : `${option} takes no value`);
    }
    throw new UsageError(message);
  }
  const args = positionals.slice(command || first === 'help' ? 1 : 0);
  if (command && !values.help) {
    const { min, max, what } = COMMANDS[command].args;
    if (args.length < min || args.length > max) {
      const stray = args.length > max ? `: unexpected "${args[max]}"` : '';
      throw new UsageError(`${command} takes ${what}${stray}`);
    }
  }
  return { command, args, values };
}

function suggestion(typed: string, candidates: readonly string[], kind: 'option' | 'command'): string {
  const best = closest(typed, candidates);
  if (best === undefined) return '';
  return kind === 'option' ? `; did you mean ${spelled(best)}?` : `; did you mean "${best}"?`;
}
