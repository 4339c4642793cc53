/**
 * Ingest against notmuch on the real-world corpus (issue 18), SQLite, all in one run:
 *
 *  - import throughput: `mailroom import ../shared/corpus` (the command a user runs, start-up included,
 *    into a fresh DATA_DIR) against `notmuch new` (Debian's notmuch) indexing a copy of the same messages
 *    as a Maildir in a temporary folder (start-up included too). Ratio of messages per second.
 *  - threading: pairwise precision and recall of the conversations Mailroom formed, over every message of
 *    the corpus with a Message-ID, against (1) the closure of the References graph (two messages are one
 *    thread when a chain of Message-ID / In-Reply-To / References links them, whether or not the linking
 *    message is in the corpus; ids that are not ids, like `<yes>`, link nothing) and (2) notmuch's threads
 *    of the same messages.
 *
 * Without ../shared/corpus the rows are skipped (a message on stderr); without notmuch the notmuch rows are
 * reported as not run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { readMessages } from '../src/features/ingest/import-mail.js';
import { pairwiseQuality, referencesClosure } from '../src/features/ingest/domain/thread-quality.js';
import type { BenchRow } from './report.js';
import { prepareConnection, withDatabase } from '../test/support/cli-connection.js';

export { prepareConnection };

const CORPUS = path.resolve('../shared/corpus');
const round = (x: number, digits = 4) => Math.round(x * 10 ** digits) / 10 ** digits;

function notmuchVersion(): string | null {
  const r = spawnSync('notmuch', ['--version'], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : null;
}

/** CPU seconds (user + system) of this process's waited-for children (Linux /proc; null elsewhere). */
function childrenCpuSeconds(): number | null {
  try {
    // Fields after the command name: ... utime stime cutime cstime (14-17), in clock ticks (100 per second on Linux).
    const fields = fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[13]) + Number(fields[14])) / 100;
  } catch {
    return null;
  }
}

/** Runs a command to its end: wall time, and its CPU time (a figure less sensitive to a loaded machine). */
function wall(cmd: string, args: string[], env: NodeJS.ProcessEnv): { seconds: number; cpuSeconds: number | null; status: number | null; stderr: string; stdout: string } {
  const cpu0 = childrenCpuSeconds();
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = childrenCpuSeconds();
  return { seconds, cpuSeconds: cpu0 === null || cpu1 === null ? null : Math.round((cpu1 - cpu0) * 100) / 100, status: r.status, stderr: r.stderr ?? '', stdout: r.stdout ?? '' };
}

/** notmuch's threads: Message-ID (lower-cased) → thread id, from `notmuch show --format=json`. */
function notmuchThreads(env: NodeJS.ProcessEnv): Map<string, string> {
  const r = spawnSync('notmuch', ['show', '--format=json', '--body=false', '--entire-thread=true', '*'], { env, encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`notmuch show failed: ${r.stderr}`);
  const out = new Map<string, string>();
  type Node = [{ id: string } | null, Node[]];
  (JSON.parse(r.stdout) as Node[][]).forEach((thread, i) => {
    const walk = (nodes: Node[]) => {
      for (const [msg, replies] of nodes) {
        if (msg?.id && !out.has(msg.id.toLowerCase())) out.set(msg.id.toLowerCase(), `t${i}`);
        walk(replies);
      }
    };
    walk(thread);
  });
  return out;
}

export async function benchIngestThreading(): Promise<BenchRow[]> {
  if (!fs.existsSync(CORPUS)) {
    process.stderr.write(`  (no ${CORPUS}: import throughput and threading rows not run)\n`);
    return [];
  }
  const rows: BenchRow[] = [];
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-threading-'));
  try {
    // The same messages as Mailroom reads them, one file each in a Maildir, for notmuch.
    const maildir = path.join(tmp, 'maildir');
    for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(maildir, sub), { recursive: true });
    let files = 0;
    for await (const { raw } of readMessages(CORPUS)) {
      files += 1;
      fs.writeFileSync(path.join(maildir, 'cur', `${String(files).padStart(6, '0')}.bench:2,S`), raw);
    }

    // Mailroom: a fresh DATA_DIR with an account and a team connection, then the import command.
    const dataDir = path.join(tmp, 'data');
    fs.mkdirSync(dataDir);
    const baseEnv: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
    delete baseEnv.DATABASE_URL;
    const connectionId = await prepareConnection(baseEnv);
    // The command as an installation runs it: bin/mailroom.js runs the compiled CLI when dist/ is up to date.
    const build = spawnSync(process.execPath, ['scripts/build.mjs', 'server'], { encoding: 'utf8' });
    const compiled = build.status === 0;
    if (!compiled) process.stderr.write(`  (server build failed, timing the TypeScript source through tsx: ${build.stderr.slice(-300)})\n`);
    const mr = wall(process.execPath, ['bin/mailroom.js', 'import', CORPUS, '--connection', connectionId], baseEnv);
    if (mr.status !== 0) throw new Error(`mailroom import failed (${mr.status}): ${mr.stderr.slice(-500)}`);
    const summary = JSON.parse(mr.stdout) as { messages: number; imported: number; seconds: number };
    const conversations = await storedConversations(baseEnv, connectionId);

    // Closure of the References graph over the stored messages (one per Message-ID).
    const closure = referencesClosure([...conversations.values()].map((m) => ({ messageId: m.messageId, parents: m.parents })));
    const predicted = new Map([...conversations.values()].map((m) => [m.messageId, m.conversationId]));
    const vsClosure = pairwiseQuality(predicted, closure);
    const goal = '>= 0.995';
    rows.push({
      name: 'threading precision vs References closure (shared corpus, SQLite)',
      figure: vsClosure.precision,
      baseline: null,
      ratio: null,
      goal,
      ok: vsClosure.precision >= 0.995,
      note: `${vsClosure.messages} messages with a Message-ID, ${new Set(closure.values()).size} threads, ${new Set(predicted.values()).size} conversations; ${vsClosure.falsePairs} pairs joined that the closure keeps apart`,
    });
    rows.push({ name: 'threading recall vs References closure (shared corpus, SQLite)', figure: vsClosure.recall, baseline: null, ratio: null, goal, ok: vsClosure.recall >= 0.995, note: `${vsClosure.missedPairs} linked pairs kept apart` });

    const version = notmuchVersion();
    if (!version) {
      const note = 'notmuch is not installed (scripts/install-test-deps.sh installs it)';
      rows.push({ name: 'import throughput ratio to notmuch new: not run', figure: 0, baseline: null, ratio: null, goal: '>= 1.0', ok: false, note });
      rows.push({ name: 'threading precision/recall vs notmuch threads: not run', figure: 0, baseline: null, ratio: null, goal, ok: false, note });
      return rows;
    }
    const config = path.join(tmp, 'notmuch-config');
    fs.writeFileSync(config, `[database]\npath=${maildir}\n[user]\nname=Bench\nprimary_email=bench@example.org\n[new]\ntags=inbox;\nignore=\n[search]\nexclude_tags=\n[maildir]\nsynchronize_flags=false\n`);
    const nmEnv: NodeJS.ProcessEnv = { ...process.env, NOTMUCH_CONFIG: config, HOME: tmp };
    const nm = wall('notmuch', ['new', '--quiet'], nmEnv);
    if (nm.status !== 0) throw new Error(`notmuch new failed (${nm.status}): ${nm.stderr.slice(-500)}`);
    const cpu = (x: number | null) => (x === null ? 'CPU time unknown' : `${x.toFixed(1)} s CPU`);
    const mrRate = summary.messages / mr.seconds;
    const nmRate = files / nm.seconds;
    rows.push({
      name: 'import throughput ratio to notmuch new (shared corpus, SQLite, start-up included)',
      figure: Math.round(mrRate),
      baseline: Math.round(nmRate),
      baselineName: 'notmuch new, files/s',
      ratio: round(mrRate / nmRate, 2),
      goal: '>= 1.0',
      ok: mrRate / nmRate >= 1,
      note: `mailroom import${compiled ? '' : ' (TypeScript source, not compiled)'} ${summary.messages} messages in ${mr.seconds.toFixed(1)} s (${summary.seconds.toFixed(1)} s importing, the rest start-up), ${cpu(mr.cpuSeconds)}; notmuch new ${files} files in ${nm.seconds.toFixed(1)} s, ${cpu(nm.cpuSeconds)}; ${version}; wall-clock ratio, a loaded machine skews it`,
    });
    const vsNotmuch = pairwiseQuality(predicted, notmuchThreads(nmEnv));
    rows.push({ name: 'threading precision vs notmuch threads (shared corpus, SQLite)', figure: vsNotmuch.precision, baseline: null, ratio: null, goal, ok: vsNotmuch.precision >= 0.995, note: `${vsNotmuch.messages} messages in both; ${vsNotmuch.falsePairs} pairs joined that notmuch keeps apart` });
    rows.push({ name: 'threading recall vs notmuch threads (shared corpus, SQLite)', figure: vsNotmuch.recall, baseline: null, ratio: null, goal, ok: vsNotmuch.recall >= 0.995, note: `${vsNotmuch.missedPairs} pairs notmuch joins kept apart` });
    return rows;
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Stored messages with a Message-ID (the first stored per id): their conversation and the ids they name. */
function storedConversations(env: NodeJS.ProcessEnv, connectionId: string): Promise<Map<string, { messageId: string; conversationId: string; parents: string[] }>> {
  return withDatabase(env, async (e) => {
    const rows = await e.db.selectFrom('messages').select(['message_id', 'in_reply_to', 'references', 'conversation_id', 'created_at', 'id']).where('connection_id', '=', connectionId).orderBy('created_at').orderBy('id').execute();
    const out = new Map<string, { messageId: string; conversationId: string; parents: string[] }>();
    for (const r of rows) {
      if (!r.message_id || !r.conversation_id || out.has(r.message_id)) continue;
      out.set(r.message_id, { messageId: r.message_id, conversationId: r.conversation_id, parents: [r.in_reply_to, ...(JSON.parse(r.references) as string[])].filter((x): x is string => Boolean(x)) });
    }
    return out;
  });
}
