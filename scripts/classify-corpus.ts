/**
 * Parses and classifies every message of the shared corpus and compares with its heuristic
 * inventory. A tool for people, not part of the test suite.
 *
 *   npx tsx scripts/classify-corpus.ts [corpusDir] [--inline] [--verbose] [--workers N] [--timeout MS] [--nice N]
 *
 * corpusDir defaults to ../shared/corpus (relative to the repository root). `--inline` parses in this
 * thread (parseMessageInline) instead of the worker pool, to compare throughput. `--tsv FILE` writes one
 * line per message (file, kind, bounce type, recipients, reasons) to compare two versions of the rules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { classifyMessage, type Classification } from '../src/features/ingest/domain/classify.js';
import type { ParsedMessage } from '../src/mail/message/message.js';
import { ParsePool } from '../src/mail/parse/pool.js';
import { parseMessageInline } from '../src/mail/parse/parse-inline.js';

const args = process.argv.slice(2);
const flag = (name: string) => args.includes(name);
const option = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const positional = args.filter((a, i) => !a.startsWith('--') && !(i > 0 && ['--workers', '--timeout', '--nice', '--tsv'].includes(args[i - 1]!)));
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const corpus = path.resolve(positional[0] ?? path.join(repoRoot, '..', 'shared', 'corpus'));
const inline = flag('--inline');
const verbose = flag('--verbose');

interface InventoryRow {
  bytes: number;
  hasInReplyTo: boolean;
  bounce: boolean;
  autoreply: boolean;
  charset: string;
}

function readInventory(): Map<string, InventoryRow> {
  const file = path.join(corpus, 'inventory.tsv');
  const out = new Map<string, InventoryRow>();
  if (!fs.existsSync(file)) return out;
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const header = lines[0]!.split('\t');
  const col = (name: string) => header.indexOf(name);
  for (const line of lines.slice(1)) {
    if (!line.trim()) continue;
    const c = line.split('\t');
    out.set(c[col('file')]!, {
      bytes: Number(c[col('bytes')]),
      hasInReplyTo: c[col('has_in_reply_to')] === '1',
      bounce: c[col('is_bounce_guess')] === '1',
      autoreply: c[col('is_autoreply_guess')] === '1',
      charset: c[col('charset_guess')] ?? '',
    });
  }
  return out;
}

function readMalformedList(): Set<string> {
  const file = path.join(corpus, 'malformed.tsv');
  if (!fs.existsSync(file)) return new Set();
  return new Set(
    fs
      .readFileSync(file, 'utf8')
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t')[0]!)
      .filter(Boolean),
  );
}

function walk(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(p));
    else if (entry.isFile() && !/\.(md|tsv)$/i.test(entry.name) && !entry.name.startsWith('.')) out.push(p);
  }
  return out.sort();
}

interface Row {
  file: string;
  bytes: number;
  ms: number;
  parsed: ParsedMessage;
  cls: Classification | null;
  classifyError: string | null;
}

async function main() {
  if (!fs.existsSync(corpus)) {
    console.error(`corpus not found: ${corpus}`);
    process.exit(2);
  }
  const inventory = readInventory();
  const malformedList = readMalformedList();
  const files = walk(corpus);
  const workers = Number(option('--workers') ?? 2);
  const timeoutMs = Number(option('--timeout') ?? 20_000);
  const niceIncrement = option('--nice') !== undefined ? Number(option('--nice')) : undefined;
  const pool = inline ? null : new ParsePool({ workers, timeoutMs, ...(niceIncrement !== undefined ? { niceIncrement } : {}) });
  if (pool) await pool.warm();

  const loop = monitorEventLoopDelay({ resolution: 10 });
  loop.enable();
  const rows: Row[] = [];
  let totalBytes = 0;
  const started = performance.now();

  const one = async (file: string) => {
    const raw = fs.readFileSync(file);
    totalBytes += raw.length;
    const t0 = performance.now();
    const parsed = pool ? await pool.parse(raw) : await parseMessageInline(raw);
    const ms = performance.now() - t0;
    let cls: Classification | null = null;
    let classifyError: string | null = null;
    try {
      cls = classifyMessage(parsed);
    } catch (err) {
      classifyError = err instanceof Error ? `${err.message}\n${err.stack}` : String(err);
    }
    rows.push({ file: path.relative(corpus, file), bytes: raw.length, ms, parsed, cls, classifyError });
  };

  // Keep the pool busy: as many in flight as there are workers (+1 queued).
  const concurrency = pool ? workers + 1 : 1;
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < files.length) {
        const f = files[next++]!;
        await one(f);
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  loop.disable();
  const stats = pool?.stats();
  if (pool) await pool.close();
  rows.sort((a, b) => (a.file < b.file ? -1 : 1));

  // ---- report ----------------------------------------------------------------------------------
  const count = <K extends string>(keys: K[]) => keys.reduce((m, k) => m.set(k, (m.get(k) ?? 0) + 1), new Map<K, number>());
  const print = (title: string, m: Map<string, number>) => {
    console.log(`\n${title}`);
    for (const [k, v] of [...m.entries()].sort((a, b) => b[1] - a[1])) console.log(`  ${k.padEnd(28)} ${v}`);
  };

  console.log(`corpus: ${corpus}`);
  console.log(`messages: ${rows.length}, ${(totalBytes / 1e6).toFixed(1)} MB, mode: ${inline ? 'inline' : `pool of ${workers}`}`);
  console.log(`throughput: ${(rows.length / elapsed).toFixed(0)} msg/s, ${(totalBytes / 1e6 / elapsed).toFixed(1)} MB/s (${elapsed.toFixed(2)} s wall, parse+classify)`);
  if (inline) console.log('main event loop delay: not measured inline (the parse holds the loop)');
  else console.log(`main event loop delay: max ${(loop.max / 1e6).toFixed(0)} ms, p99 ${(loop.percentile(99) / 1e6).toFixed(0)} ms`);
  if (stats) console.log(`pool: ${JSON.stringify(stats)}`);

  print('kinds', count(rows.map((r) => (r.cls ? r.cls.kind : 'CLASSIFY_ERROR'))));
  const tsv = option('--tsv');
  if (tsv) {
    const line = (r: Row) =>
      [
        r.file,
        r.cls?.kind ?? 'CLASSIFY_ERROR',
        r.cls?.bounce ? `${r.cls.bounce.source}/${r.cls.bounce.type}` : '-',
        r.cls?.bounce?.recipients.map((x) => x.address).join(',') ?? '-',
        r.cls?.reasons.join(' ') ?? '',
      ]
        .map((c) => c.replace(/[\t\n]/g, ' '))
        .join('\t');
    fs.writeFileSync(tsv, `${['file', 'kind', 'bounce', 'recipients', 'reasons'].join('\t')}\n${rows.map(line).join('\n')}\n`);
  }
  print('malformed flags', count(rows.flatMap((r) => r.parsed.malformed)));
  const bounceSources = count(rows.filter((r) => r.cls?.bounce).map((r) => `${r.cls!.bounce!.source}/${r.cls!.bounce!.type}`));
  print('bounce source/type', bounceSources);
  const withRecipients = rows.filter((r) => r.cls?.bounce && r.cls.bounce.recipients.length > 0).length;
  const bounces = rows.filter((r) => r.cls?.kind === 'bounce').length;
  console.log(`  bounces with >=1 recipient: ${withRecipients}/${bounces}`);
  console.log(`  bounces with original Message-ID: ${rows.filter((r) => r.cls?.bounce?.originalMessageId).length}/${bounces}`);

  const failures = rows.filter((r) => r.parsed.malformed.includes('parse_error') || r.parsed.malformed.includes('parse_timeout'));
  console.log(`\nparse failures (parse_error / parse_timeout): ${failures.length}`);
  for (const r of failures) console.log(`  ${r.file} ${r.parsed.malformed.join(',')}`);
  const classifyErrors = rows.filter((r) => r.classifyError);
  console.log(`classify errors: ${classifyErrors.length}`);
  for (const r of classifyErrors) console.log(`  ${r.file}: ${r.classifyError}`);

  console.log('\nslowest parses:');
  for (const r of [...rows].sort((a, b) => b.ms - a.ms).slice(0, 8)) {
    console.log(
      `  ${r.ms.toFixed(0).padStart(6)} ms  ${(r.bytes / 1024).toFixed(0).padStart(6)} KB  ${r.file}  parts=${r.parsed.partCount} depth=${r.parsed.maxDepth} ${r.parsed.malformed.join(',')}`,
    );
  }

  // malformed.tsv vs our flags
  const listed = rows.filter((r) => malformedList.has(r.file));
  const listedFlagged = listed.filter((r) => r.parsed.malformed.some((f) => !['missing_message_id', 'missing_date', 'missing_from'].includes(f)));
  console.log(`\nmalformed.tsv: ${listed.length} files; ${listedFlagged.length} carry a structural/decoding flag (beyond missing headers)`);

  // inventory comparison
  if (inventory.size > 0) {
    const compare = (name: string, guess: (i: InventoryRow) => boolean, ours: (r: Row) => boolean) => {
      let both = 0;
      let onlyGuess: string[] = [];
      let onlyOurs: string[] = [];
      for (const r of rows) {
        const inv = inventory.get(r.file);
        if (!inv) continue;
        const g = guess(inv);
        const o = ours(r);
        if (g && o) both++;
        else if (g) onlyGuess.push(r.file);
        else if (o) onlyOurs.push(r.file);
      }
      console.log(`\n${name}: agree ${both}, inventory only ${onlyGuess.length}, ours only ${onlyOurs.length}`);
      const show = verbose ? Infinity : 15;
      for (const f of onlyGuess.slice(0, show)) console.log(`  inventory-only ${f}  [${describe(rows.find((r) => r.file === f)!)}]`);
      for (const f of onlyOurs.slice(0, show)) console.log(`  ours-only      ${f}  [${describe(rows.find((r) => r.file === f)!)}]`);
    };
    compare(
      'bounce',
      (i) => i.bounce,
      (r) => r.cls?.kind === 'bounce',
    );
    compare(
      'auto-reply',
      (i) => i.autoreply,
      (r) => r.cls?.kind === 'auto_reply',
    );
    compare(
      'has In-Reply-To',
      (i) => i.hasInReplyTo,
      (r) => r.parsed.inReplyTo !== null,
    );
  }
}

function describe(r: Row): string {
  return `${r.cls?.kind} ${r.cls?.reasons.join(' ')} | from=${r.parsed.from?.address ?? '-'} subj=${JSON.stringify(r.parsed.subject.slice(0, 60))}`;
}

await main();
