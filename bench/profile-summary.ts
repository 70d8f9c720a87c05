/**
 * Summarises the worker CPU profiles `BENCH_ORG_CPU_PROF=<dir> npm run bench -- --only org` writes:
 * `npx tsx bench/profile-summary.ts <dir>`. Each sample's function is put in the module it was bundled
 * from (the profiled bundle is unminified: esbuild heads each module with a `// node_modules/...` or
 * `// lib/...` comment), then in a group (SDK XML parsing, signing, HTTP, our code, ...).
 *
 * Time is split as the bench counts it: samples before a worker's first `sweepRecord` are start-up
 * (not counted by the bench, shown apart), those up to its first `flushMetrics` its first invocation,
 * the rest its steady state. `(idle)` samples are dropped. A profile samples the main thread only:
 * V8's background compiler and GC threads are not in it (docs/performance.md, "Organisation mode,
 * measured"), and on a loaded machine a sample's interval includes time the thread was not running.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

interface CallFrame {
  functionName: string;
  url: string;
  lineNumber: number;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const GROUPS: readonly (readonly [string, RegExp])[] = [
  ['SDK XML parser (@aws-sdk/xml-builder)', /xml-builder/],
  ['SDK deserialise/serialise (schema, protocols, serde)', /protocols\/xml|@smithy\/core (schema|serde|protocols)/],
  ['SDK middleware stack resolution', /client\/middleware-stack|client\/smithy-client/],
  ['SigV4 signing and auth', /signature-v4|node:crypto|httpAuthSchemes|middleware-http-auth|middleware-http-signing/],
  ['SDK endpoint resolution', /endpoints|parseUrl/],
  ['SDK user agent', /user-agent/],
  ['SDK retry', /retry/],
  ['SDK config providers', /config\/|property-provider/],
  [
    'HTTP and sockets (Node, node-http-handler)',
    /node:_http|node:net|node:stream|node:internal\/stream|stream_base|node-http-handler|util-stream|writeLatin1|writev|writeUtf8|writeBuffer|node:events|event_target|set natives|node:buffer|node:timers/,
  ],
  ['garbage collector', /\(garbage collector\)/],
  ['promise jobs', /runMicrotasks|task_queues|process\/promises/],
  ['our code (lib/, handlers/)', /^(lib|handlers)\//],
  ['Powertools logger and metrics', /powertools/],
  ['bench worker (IPC, cpuUsage)', /cpuUsage|child_process|^bench\//],
];

const sections = new Map<string, string[] | null>();

/** Which bundled module a line of a bundle file came from (null: not a file we can read). */
function modulesOf(url: string): string[] | null {
  const known = sections.get(url);
  if (known !== undefined) return known;
  const path = url.startsWith('file://') ? decodeURIComponent(url.slice('file://'.length)) : undefined;
  let lines: string[] | null = null;
  if (path && existsSync(path)) {
    let current = '(bundle)';
    lines = readFileSync(path, 'utf8')
      .split('\n')
      .map((line) => {
        const head = /^\/\/ (\S+\.(?:[cm]?js|ts))$/.exec(line);
        if (head?.[1]) current = head[1];
        return current;
      });
  }
  sections.set(url, lines);
  return lines;
}

/** The package (and, for the SDK, its sub-module) a frame belongs to. */
function moduleOf(frame: CallFrame): string {
  if (!frame.url) return frame.functionName.startsWith('(') ? frame.functionName : `(native ${frame.functionName})`;
  if (frame.url.startsWith('node:')) return frame.url;
  const file = modulesOf(frame.url)?.[frame.lineNumber] ?? frame.url;
  const at = file.lastIndexOf('node_modules/');
  if (at < 0) return file;
  const parts = file.slice(at + 'node_modules/'.length).split('/');
  const name = parts[0]?.startsWith('@') ? `${parts[0]}/${parts[1]}` : (parts[0] ?? file);
  const inner = parts.slice(name.includes('/') ? 2 : 1).filter((p) => !['dist-es', 'dist-cjs', 'submodules', 'lib', 'esm'].includes(p));
  return name.startsWith('@smithy') || name.startsWith('@aws-sdk') ? `${name} ${inner.slice(0, 2).join('/')}` : name;
}

type Phase = 'start-up' | 'first invocation' | 'steady state';

function summarise(files: readonly string[]): void {
  const byModule: Record<Phase, Map<string, number>> = { 'start-up': new Map(), 'first invocation': new Map(), 'steady state': new Map() };
  for (const file of files) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
    const parents = new Map<number, number>();
    for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n.id);
    const names = (id: number): Set<string> => {
      const seen = new Set<string>();
      for (let at: number | undefined = id; at !== undefined; at = parents.get(at)) seen.add(nodes.get(at)?.callFrame.functionName ?? '');
      return seen;
    };
    let phase: Phase = 'start-up';
    profile.samples.forEach((id, i) => {
      const frame = nodes.get(id)?.callFrame;
      if (!frame || frame.functionName === '(idle)') return;
      const stack = names(id);
      if (phase === 'start-up' && stack.has('sweepRecord')) phase = 'first invocation';
      const key = moduleOf(frame);
      byModule[phase].set(key, (byModule[phase].get(key) ?? 0) + (profile.timeDeltas[i] ?? 0));
      if (phase === 'first invocation' && stack.has('flushMetrics')) phase = 'steady state';
    });
  }
  for (const [phase, modules] of Object.entries(byModule)) {
    const total = [...modules.values()].reduce((a, b) => a + b, 0);
    if (total === 0) continue;
    const share = (us: number) => `${((100 * us) / total).toFixed(1).padStart(5)}%`;
    console.log(`\n${phase}: ${(total / 1000 / files.length).toFixed(0)} ms of samples per worker (${files.length} workers)`);
    const groups = new Map<string, number>();
    for (const [key, us] of modules) {
      const group = GROUPS.find(([, pattern]) => pattern.test(key))?.[0] ?? 'other';
      groups.set(group, (groups.get(group) ?? 0) + us);
    }
    for (const [group, us] of [...groups].sort((a, b) => b[1] - a[1])) console.log(`  ${share(us)}  ${group}`);
    console.log('  top modules:');
    for (const [key, us] of [...modules].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`    ${share(us)}  ${key}`);
  }
}

const dir = process.argv[2];
if (!dir) {
  console.error('usage: npx tsx bench/profile-summary.ts <BENCH_ORG_CPU_PROF directory>');
  process.exit(2);
}
const profiles = readdirSync(dir)
  .filter((f) => f.endsWith('.cpuprofile'))
  .map((f) => join(dir, f));
if (profiles.length === 0) {
  console.error(`no .cpuprofile in ${dir}`);
  process.exit(2);
}
summarise(profiles);
