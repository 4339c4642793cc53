/**
 * `npm run bench`: runs every benchmark the issues ask for, prints one table (figure, baseline measured
 * in the same run, ratio, goal) and writes it as JSON and Markdown under bench/results/. Benchmarks are
 * ratios against a baseline of the same run because these machines are noisy.
 *   npm run bench                 all
 *   npm run bench -- sync list    only some (names: sync, list, tracking, hostile, corpus, inbound-load, api-load, mailboxes, mailbox-failover, webhooks, meeting-slots, threading, sequences)
 *   npm run bench -- mailboxes --out=mailboxes   writes bench/results/mailboxes.{json,md} instead of latest.*
 * A benchmark that throws is reported as a failed row; the others still run.
 */
import fs from 'node:fs';
import os from 'node:os';
import { spawnSync } from 'node:child_process';
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
  'inbound-load': async () => (await import('./inbound-load.js')).benchInboundLoad,
  'api-load': async () => (await import('./api-load.js')).benchApiLoad,
  mailboxes: () => optional('./mailboxes.js', 'benchMailboxes'),
  'mailbox-failover': () => optional('./mailboxes.js', 'benchMailboxFailover'),
  webhooks: () => optional('./webhooks.js', 'benchWebhooks'),
  'meeting-slots': () => optional('./meeting-slots.js', 'benchMeetingSlots'),
  // Import throughput against `notmuch new` and threading against the References closure and notmuch (../shared/corpus).
  threading: () => optional('./ingest-threading.js', 'benchIngestThreading'),
  sequences: () => optional('./sequences.js', 'benchSequences'),
  // The real-world corpus (../shared/corpus) imported in this run, on SQLite and on PostgreSQL.
  corpus: async () => async () => {
    const rows: BenchRow[] = [];
    const { benchDatabases, benchPgUrl, pgUnavailable } = await import('./databases.js');
    if (!fs.existsSync('../shared/corpus')) {
      process.stderr.write('  (no ../shared/corpus: corpus import not run)\n');
      return rows;
    }
    for (const db of benchDatabases()) {
      const f = `bench/results/corpus-${db}.json`;
      if (db === 'postgres' && (await pgUnavailable())) continue;
      fs.rmSync(f, { force: true });
      const env = { ...process.env };
      if (db === 'postgres') env.DATABASE_URL = benchPgUrl();
      else delete env.DATABASE_URL;
      process.stderr.write(`  corpus import on ${db}...\n`);
      spawnSync(process.execPath, ['--import', 'tsx', 'scripts/import-corpus.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
      if (!fs.existsSync(f)) {
        rows.push({ name: `corpus import on ${db}: did not finish`, figure: 0, baseline: null, ratio: null, goal: 'none failed, re-run imports 0', ok: false });
        continue;
      }
      const r = JSON.parse(fs.readFileSync(f, 'utf8'));
      rows.push({ name: `corpus import on ${db}: messages imported (of ${r.messages}; ${r.duplicatesWithinCorpus} duplicates, ${r.malformedFlagged} flagged malformed, ${r.conversationsFormed} conversations)`, figure: r.imported, baseline: null, ratio: null, goal: 'none failed, re-run imports 0', ok: r.failed === 0 && r.rerunImported === 0, note: `${r.messagesPerSecond} msg/s; re-run imported ${r.rerunImported}` });
    }
    return rows;
  },
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const outName = process.argv.slice(2).find((a) => a.startsWith('--out='))?.slice('--out='.length).replace(/[^\w.-]/g, '') || 'latest';
const names = wanted.length ? wanted : Object.keys(benches);
const rows: BenchRow[] = [];
/** Which benchmark produced each row (latest.json keeps rows per benchmark across partial runs). */
const rowBenchmark = new Map<BenchRow, string>();
const durations: Record<string, number> = {};
const loadAtStart = os.loadavg();
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
  process.stderr.write(`running ${name}... (${new Date().toISOString()})\n`);
  const t0 = performance.now();
  try {
    for (const r of await fn()) {
      rows.push(r);
      rowBenchmark.set(r, name);
    }
  } catch (err) {
    console.error(err);
    const failed: BenchRow = { name: `${name}: the benchmark failed`, figure: 0, baseline: null, ratio: null, goal: 'runs', ok: false, note: String((err as Error).message ?? err).slice(0, 300) };
    rows.push(failed);
    rowBenchmark.set(failed, name);
  }
  durations[name] = Math.round((performance.now() - t0) / 1000);
}
await closeDefaultParsePool();
const cpus = os.cpus();
const machineInfo = {
  cpu: cpus[0]?.model ?? 'cpu',
  cores: cpus.length,
  memoryGB: Math.round(os.totalmem() / 1e9),
  node: process.version,
  os: `${os.platform()} ${os.release()}`,
  loadAverageAtStart: loadAtStart.map((x) => Math.round(x * 10) / 10),
  loadAverageAtEnd: os.loadavg().map((x) => Math.round(x * 10) / 10),
};
const machine = `${machineInfo.cores} x ${machineInfo.cpu}, ${machineInfo.memoryGB} GB, node ${machineInfo.node}, ${machineInfo.os}`;
const load = `load average ${machineInfo.loadAverageAtStart.join(' / ')} at start, ${machineInfo.loadAverageAtEnd.join(' / ')} at the end (1/5/15 min; shared machine)`;
const table = markdownTable(rows);
console.log(`\n${table}\n\nmachine: ${machine}; ${load}`);
fs.mkdirSync('bench/results', { recursive: true });
const stamp = new Date().toISOString();
const met = rows.filter((r) => r.ok === true).length;
const missed = rows.filter((r) => r.ok === false).length;
const took = Object.entries(durations).map(([n, s]) => `${n} ${s} s`).join(', ');
// A partial run into latest (`npm run bench -- mailboxes`) replaces only the rows of the benchmarks it ran:
// latest.json holds the latest run of every benchmark, each row's baseline measured in its own run
// (`runs` says when each benchmark last ran).
type Report = { at: string; machine: string; benchmarks: string[]; runs?: Record<string, string>; machines?: Record<string, string>; rows: Array<BenchRow & { benchmark?: string }> };
const previous: Report | null = wanted.length && outName === 'latest' && fs.existsSync('bench/results/latest.json') ? (JSON.parse(fs.readFileSync('bench/results/latest.json', 'utf8')) as Report) : null;
const ranRows = rows.map((r) => ({ ...r, benchmark: rowBenchmark.get(r) ?? '' }));
// Rows written before rows named their benchmark (2026-11-29) are known by their names.
const LEGACY_PREFIXES: Array<[string, string]> = [
  ['sync pipeline', 'sync'], ['IMAP commands', 'sync'], ['peak memory during', 'sync'], ['conversation list', 'list'], ['tracking:', 'tracking'],
  ['hostile mail', 'hostile'], ['inbound SMTP', 'inbound-load'], ['API on', 'api-load'], ['corpus import', 'corpus'],
];
const benchmarkOf = (r: BenchRow & { benchmark?: string }) => r.benchmark || LEGACY_PREFIXES.find(([p]) => r.name.startsWith(p))?.[1] || '';
const keptRows = previous ? previous.rows.map((r) => ({ ...r, benchmark: benchmarkOf(r) })).filter((r) => !names.includes(r.benchmark)) : [];
const runs: Record<string, string> = previous ? { ...(previous.runs ?? Object.fromEntries(previous.benchmarks.map((n) => [n, previous.at]))) } : {};
for (const n of names) runs[n] = stamp;
// The machine each benchmark last ran on: a partial run on another machine must not relabel the rows it kept.
// Reports written before this record (2026-12-07) name one machine, that of their latest run (`at`).
const machines: Record<string, string> = {};
for (const n of Object.keys(runs)) {
  const known = names.includes(n) ? machine : (previous?.machines?.[n] ?? (previous && runs[n] === previous.at ? previous.machine : undefined));
  machines[n] = known ?? 'not recorded';
}
const allRows = [...keptRows, ...ranRows];
fs.writeFileSync(
  `bench/results/${outName}.json`,
  `${JSON.stringify({ at: stamp, machine, machineInfo, benchmarks: Object.keys(runs), runs, machines, durationsSeconds: durations, rows: allRows }, null, 2)}\n`,
);
// Kept benchmarks grouped by the run they come from (when, and on which machine when not this one).
const keptRuns = new Map<string, string[]>();
for (const [n, at] of Object.entries(runs)) {
  if (names.includes(n)) continue;
  const key = `${at}${machines[n] === machine ? '' : machines[n] === 'not recorded' ? ' (machine not recorded)' : ` on ${machines[n]}`}`;
  keptRuns.set(key, [...(keptRuns.get(key) ?? []), n]);
}
const earlier = keptRows.length
  ? `\n\nRows of earlier runs kept (each benchmark's latest run, its baselines from that run): ${[...keptRuns].map(([key, ns]) => `${ns.join(', ')}: ${key}`).join('; ')}. Goals over all rows: met ${allRows.filter((r) => r.ok === true).length}, missed ${allRows.filter((r) => r.ok === false).length}.`
  : '';
fs.writeFileSync(
  `bench/results/${outName}.md`,
  `# Benchmark results\n\nRun at ${stamp} (\`npm run bench${wanted.length ? ` -- ${wanted.join(' ')}` : ''}${outName !== 'latest' ? ` --out=${outName}` : ''}\`) on ${machine}; ${load}.\n\nGoals met: ${met}, missed: ${missed} (rows without a goal are reported figures). Time per benchmark: ${took}.${earlier}\n\n${markdownTable(allRows)}\n`,
);
process.exit(0);
