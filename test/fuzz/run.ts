/**
 * Long fuzzing runs: `npm run fuzz -- --minutes N` runs every target of targets.ts (or
 * `--target name[,name]`) round-robin with fresh seeds until N minutes are up (default 1), prints the
 * runs per target and every counterexample (shrunk), and saves each new one under
 * test/fuzz/regressions/<target>/ where regressions.test.ts replays it. Exit code 1 when anything
 * failed. `--seed S` makes a run repeatable; `--no-save` only prints.
 */
import fc from 'fast-check';
import { TARGETS, propertyOf, type FuzzTarget } from './targets.js';
import { saveCounterexample } from './regressions.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq ? eq.slice(name.length + 3) : undefined;
}

const minutes = Number(arg('minutes') ?? 1);
if (!(minutes > 0)) {
  console.error('usage: npm run fuzz -- --minutes N [--target name[,name]] [--seed S] [--no-save]');
  process.exit(2);
}
const only = arg('target')?.split(',');
const targets = only ? TARGETS.filter((t) => only.includes(t.name)) : TARGETS;
if (targets.length === 0) {
  console.error(`no such target; choose from ${TARGETS.map((t) => t.name).join(', ')}`);
  process.exit(2);
}
const save = !process.argv.includes('--no-save');
let seed = arg('seed') !== undefined ? Number(arg('seed')) : (Date.now() ^ (process.pid << 16)) >>> 0;

const deadline = Date.now() + minutes * 60_000;
const stats = new Map<string, { runs: number; failures: number; ms: number }>(targets.map((t) => [t.name, { runs: 0, failures: 0, ms: 0 }]));
// Every target gets a turn even in a short run: slices of at most 10 s, shorter when time is short.
const SLICE_MS = Math.max(1_000, Math.min(10_000, Math.floor((minutes * 60_000) / targets.length)));
const found: Array<{ target: string; error: string; file: string | null }> = [];

console.log(`fuzzing ${targets.map((t) => t.name).join(', ')} for ${minutes} minute(s), first seed ${seed}`);
while (Date.now() < deadline) {
  for (const target of targets) {
    const left = deadline - Date.now();
    if (left <= 0) break;
    const s = stats.get(target.name)!;
    const started = Date.now();
    const details: fc.RunDetails<unknown> = await fc.check(propertyOf(target as FuzzTarget<unknown>), {
      numRuns: 1_000_000,
      seed,
      plugins: [fc.interruptAfterTimeLimit(Math.min(SLICE_MS, left))],
    });
    s.ms += Date.now() - started;
    s.runs += details.numRuns;
    if (details.failed && details.counterexample) {
      s.failures += 1;
      const input = (details.counterexample as [unknown])[0];
      const error = details.errorInstance instanceof Error ? `${details.errorInstance.name}: ${details.errorInstance.message}` : String(details.errorInstance);
      const file = save ? saveCounterexample(target, input, error, { seed: details.seed }) : null;
      found.push({ target: target.name, error, file });
      const shown = JSON.stringify(target.encode(input));
      console.log(`\n[${target.name}] counterexample (seed ${details.seed}, ${details.numShrinks} shrinks):\n  ${shown.length > 2000 ? `${shown.slice(0, 2000)}... (${shown.length} chars)` : shown}\n  ${error}${file ? `\n  saved: ${file}` : save ? '\n  (already saved)' : ''}`);
    }
    seed = (seed + 0x9e3779b9) >>> 0;
  }
}
await closeDefaultParsePool();

console.log('\ntarget              runs      runs/s   counterexamples');
for (const [name, s] of stats) console.log(`${name.padEnd(18)} ${String(s.runs).padStart(8)}  ${String(Math.round(s.runs / Math.max(1, s.ms / 1000))).padStart(8)}   ${s.failures}`);
const total = [...stats.values()].reduce((a, s) => a + s.runs, 0);
console.log(`\n${total} runs in ${minutes} minute(s); ${found.length} counterexample(s)${found.length ? `, ${found.filter((f) => f.file).length} newly saved under test/fuzz/regressions/` : ''}`);
process.exit(found.length ? 1 : 0);
