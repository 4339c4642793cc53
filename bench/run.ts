/**
 * `npm run bench`: runs every benchmark the issues ask for, prints one table (figure, baseline measured
 * in the same run, ratio, goal) and writes it as JSON and Markdown under bench/results/. Benchmarks are
 * ratios against a baseline of the same run because these machines are noisy.
 *   npm run bench                 all
 *   npm run bench -- sync list    only some (names: sync, list, tracking, hostile, corpus)
 */
import fs from 'node:fs';
import os from 'node:os';
import { markdownTable, type BenchRow } from './report.js';
import { closeDefaultParsePool } from '../src/mail/parse/index.js';

type Bench = () => Promise<BenchRow[]>;
/** Benchmarks other features add: loaded by name so a missing one is reported, not fatal. */
async function optional(file: string, fn: string): Promise<Bench | null> {
  const mod = (await import(file).catch(() => null)) as Record<string, Bench> | null;
  return mod?.[fn] ?? null;
}
const benches: Record<string, () => Promise<Bench | null>> = {
  sync: async () => (await import('./sync-pipeline.js')).benchSyncPipeline,
  list: () => optional('./conversation-list.js', 'benchConversationList'),
  tracking: () => optional('./tracking.js', 'benchTracking'),
  hostile: () => optional('./hostile-mail.js', 'benchHostileMail'),
  corpus: async () => async () => {
    const rows: BenchRow[] = [];
    for (const db of ['sqlite', 'postgres']) {
      const f = `bench/results/corpus-${db}.json`;
      if (!fs.existsSync(f)) continue;
      const r = JSON.parse(fs.readFileSync(f, 'utf8'));
      rows.push({ name: `corpus import on ${db}: messages imported (of ${r.messages}; ${r.duplicatesWithinCorpus} duplicates, ${r.malformedFlagged} flagged malformed, ${r.conversationsFormed} conversations)`, figure: r.imported, baseline: null, ratio: null, goal: 'none failed, re-run imports 0', ok: r.failed === 0 && r.rerunImported === 0 });
    }
    return rows;
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = wanted.length ? wanted : Object.keys(benches);
const rows: BenchRow[] = [];
for (const name of names) {
  const load = benches[name];
  if (!load) {
    console.error(`unknown benchmark ${name}; choose from ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  const fn = await load();
  if (!fn) {
    console.error(`(benchmark ${name} is not available in this checkout)`);
    continue;
  }
  process.stderr.write(`running ${name}...\n`);
  rows.push(...(await fn()));
}
await closeDefaultParsePool();
const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 1e9)} GB, node ${process.version}, ${os.platform()} ${os.release()}`;
const table = markdownTable(rows);
console.log(`\n${table}\n\nmachine: ${machine}`);
fs.mkdirSync('bench/results', { recursive: true });
const stamp = new Date().toISOString();
fs.writeFileSync('bench/results/latest.json', `${JSON.stringify({ at: stamp, machine, rows }, null, 2)}\n`);
fs.writeFileSync('bench/results/latest.md', `# Benchmark results\n\nRun at ${stamp} on ${machine}.\n\n${table}\n`);
process.exit(0);
