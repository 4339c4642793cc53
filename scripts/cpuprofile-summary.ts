/**
 * Sums a V8 .cpuprofile (Chrome DevTools format, e.g. from BENCH_INBOUND_CPUPROF) by function and by file:
 * self time (samples in that function) and inclusive time (samples with it anywhere on the stack, counted
 * once per sample even when it recurses). Times in ms of sampled main-thread time.
 *   npx tsx scripts/cpuprofile-summary.ts file.cpuprofile [--top 40] [--match text]
 *   npx tsx scripts/cpuprofile-summary.ts file.cpuprofile --callers functionName [--depth 4]
 * --match keeps the function rows whose name or file contain the text; --callers sums, for the samples
 * with that function on the stack, its inclusive time by the chain of its nearest callers.
 * Blocking native calls (SQLite, fsync) count as busy: the profile samples the thread, not its CPU.
 */
import fs from 'node:fs';

interface Node {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: Node[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

process.stdout.on('error', () => process.exit(0)); // piped into head
const args = process.argv.slice(2);
const file = args.find((a) => !a.startsWith('--'))!;
const opt = (name: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
};
const top = Number(opt('top') ?? 40);
const match = opt('match');
const p = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;

const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const shortUrl = (u: string) =>
  u
    .replace(/^file:\/\//, '')
    .replace(/^.*\/node_modules\//, 'npm:')
    .replace(/^.*\/(src|bench|test)\//, '$1/') || '(native)';
const fnKey = (n: Node) => `${n.callFrame.functionName || '(anonymous)'} ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`;
const fileKey = (n: Node) => {
  const u = shortUrl(n.callFrame.url);
  return u.startsWith('npm:') ? u.replace(/^npm:((?:@[^/]+\/)?[^/]+).*$/, 'npm:$1') : u;
};

// Time of each sample: the delta that follows it (DevTools' convention).
const selfFn = new Map<string, number>();
const inclFn = new Map<string, number>();
const selfFile = new Map<string, number>();
const inclFile = new Map<string, number>();
const add = (m: Map<string, number>, k: string, v: number) => m.set(k, (m.get(k) ?? 0) + v);
let total = 0;
for (let i = 0; i < p.samples.length; i++) {
  const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
  total += ms;
  const leaf = byId.get(p.samples[i]!)!;
  add(selfFn, fnKey(leaf), ms);
  add(selfFile, fileKey(leaf), ms);
  const seenFn = new Set<string>();
  const seenFile = new Set<string>();
  for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
    const n = byId.get(id)!;
    const k = fnKey(n);
    if (!seenFn.has(k)) {
      seenFn.add(k);
      add(inclFn, k, ms);
    }
    const f = fileKey(n);
    if (!seenFile.has(f)) {
      seenFile.add(f);
      add(inclFile, f, ms);
    }
  }
}
// --callers name: for samples whose leaf function is `name`, the time by the stack of its nearest 4 callers.
const callersOf = opt('callers');
if (callersOf) {
  const stacks = new Map<string, number>();
  for (let i = 0; i < p.samples.length; i++) {
    const ms = (p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0) / 1000;
    // the nearest frame of that name on the stack (leaf or not)
    let id: number | undefined = p.samples[i]!;
    while (id !== undefined && byId.get(id)!.callFrame.functionName !== callersOf) id = parent.get(id);
    if (id === undefined) continue;
    const n = byId.get(id)!;
    const chain: string[] = [];
    for (let up = parent.get(n.id); up !== undefined && chain.length < Number(opt('depth') ?? 4); up = parent.get(up)) chain.push(fnKey(byId.get(up)!));
    add(stacks, chain.join(' < '), ms);
  }
  console.log(`callers of ${callersOf} (inclusive):`);
  for (const [k, v] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`${v.toFixed(0).padStart(8)} ms  ${k}`);
  process.exit(0);
}
const idle = selfFn.get('(idle) (native):0') ?? 0;
const table = (title: string, m: Map<string, number>, filter = false) => {
  const rows = [...m]
    .filter(([k]) => !filter || !match || k.includes(match))
    .sort((a, b) => b[1] - a[1])
    .slice(0, top);
  console.log(`\n## ${title}`);
  for (const [k, v] of rows) console.log(`${v.toFixed(0).padStart(8)} ms ${((100 * v) / (total - idle)).toFixed(1).padStart(5)}%  ${k}`);
};
console.log(`${file}: ${p.samples.length} samples, ${total.toFixed(0)} ms sampled, ${idle.toFixed(0)} ms idle, ${(total - idle).toFixed(0)} ms busy (percentages of busy)`);
table('self by file', selfFile);
table('inclusive by file', inclFile);
table('self by function', selfFn, true);
table('inclusive by function', inclFn, true);
