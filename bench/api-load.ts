/**
 * The API under concurrent agents (issue 8, hardening), once on SQLite and once on PostgreSQL: autocannon
 * (in a worker thread, so the load does not share the server's event loop) keeps N keep-alive connections
 * busy with a mix of the calls an inbox screen makes — the conversations list (views open, all,
 * unassigned, mine), a conversation thread, the contacts search — each with the bearer token of one of
 * several users of a seeded account (an inbox whose mail came in through the real ingest path, contacts
 * created by the real command). Every response is checked to be 200 once before the load. On PostgreSQL
 * the server has the pool a Mailroom process opens (10 connections; the test database's has 25).
 *
 * Baseline, same run, same tool, same request mix: a bare Fastify server answering each (token, URL)
 * with the very bytes the API returned for it. Runs are paired (alternating which goes first) and the
 * figure is the median of the per-pair ratios, as in bench/tracking.ts.
 *
 * Goals (issue 20): 0 non-2xx and 0 errors; throughput >= 0.1 of the bare route on SQLite and >= 0.07 on
 * PostgreSQL (every call authenticates a token, runs a few queries and serialises up to 50 rows, each far
 * more work than the bare route's whole request: 0.1 means the API adds at most ~10 bare-request costs);
 * p99 under 100 ms with every connection busy (50 agents clicking without pause).
 *
 *   npm run bench -- api-load
 *   BENCH_API_CONNECTIONS=50 BENCH_API_SECONDS=5 BENCH_API_ROUNDS=3 BENCH_API_MESSAGES=3000 BENCH_API_CONTACTS=1000
 */
import { Worker } from 'node:worker_threads';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { createTestApp, type TestApp } from '../test/support/app.js';
import { DEFAULT_PG_POOL_SIZE } from '../src/platform/database/database.js';
import { insertConnection } from '../test/support/connections.js';
import { createIngestor } from '../src/app/engine.js';
import { ingestBatch } from '../src/features/ingest/ingest.js';
import { createContact } from '../src/features/crm/commands/createContact.js';
import type { Actor } from '../src/platform/context.js';
import type { BenchRow } from './report.js';
import { benchDatabases, median, onDatabase, pgUnavailable, round1, round2, type DbKind } from './databases.js';

const CONNECTIONS = Number(process.env.BENCH_API_CONNECTIONS ?? 50);
const SECONDS = Number(process.env.BENCH_API_SECONDS ?? 5);
const ROUNDS = Number(process.env.BENCH_API_ROUNDS ?? 3);
const MESSAGES = Number(process.env.BENCH_API_MESSAGES ?? 3000);
const CONTACTS = Number(process.env.BENCH_API_CONTACTS ?? 1000);
const USERS = 5;
const GOAL_RATIO: Record<DbKind, number> = { sqlite: 0.1, postgres: 0.07 };
const GOAL_P99_MS = 100;

export interface Req {
  kind: 'list' | 'thread' | 'contacts';
  path: string;
  token: string;
}

/** The load, run in a worker thread (plain CommonJS so it needs no loader). */
const LOAD = `
const { parentPort, workerData } = require('node:worker_threads');
const { createRequire } = require('node:module');
const autocannon = createRequire(workerData.requireFrom)('autocannon');
const { port, list, seconds, connections } = workerData;
let k = 0;
const opts = {
  url: 'http://127.0.0.1:' + port,
  connections,
  duration: seconds,
  requests: [{ method: 'GET', setupRequest: (req) => { const r = list[k++ % list.length]; return Object.assign({}, req, { path: r.path, headers: Object.assign({}, req.headers, { authorization: 'Bearer ' + r.token }) }); } }],
};
autocannon(opts, (err, raw) => {
  if (err) { parentPort.postMessage({ error: String(err) }); return; }
  // In a worker thread autocannon hands back encoded histograms: aggregate them as its main thread would.
  const res = raw.latency ? raw : autocannon.aggregateResult([raw], opts);
  parentPort.postMessage({ total: res.requests.total, duration: res.duration, p50: res.latency.p50, p99: res.latency.p99, non2xx: res.non2xx, errors: res.errors, timeouts: res.timeouts, codes: res.statusCodeStats });
});
`;

interface LoadResult {
  rate: number;
  total: number;
  p50: number;
  p99: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  codes: Record<string, { count: number }>;
}

export function load(port: number, list: Req[], seconds: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOAD, { eval: true, workerData: { requireFrom: path.resolve('package.json'), port, list, seconds, connections: CONNECTIONS } });
    w.once('message', (m: (Omit<LoadResult, 'rate'> & { duration: number }) | { error: string }) => {
      void w.terminate();
      if ('error' in m) return reject(new Error(m.error));
      resolve({ ...m, rate: m.total / m.duration });
    });
    w.once('error', reject);
  });
}

const portOf = (app: FastifyInstance) => (app.server.address() as AddressInfo).port;

const FIRST = ['Ada', 'Ben', 'Carla', 'Dmitri', 'Elena', 'Farid', 'Grace', 'Hiro', 'Ines', 'Jonas', 'Kemal', 'Lena', 'Marta', 'Nils', 'Olga', 'Pedro', 'Quinn', 'Rosa', 'Sven', 'Tara'];
const LAST = ['Meyer', 'Okafor', 'Rossi', 'Novak', 'Silva', 'Kowalski', 'Haddad', 'Tanaka', 'Larsen', 'Moreau', 'Schmidt', 'Garcia', 'Nguyen', 'Petrov', 'Dubois'];
const WORDS = 'order invoice shipping delivery refund account password billing update question thanks regards please help status tracking package arrived damaged replacement warranty subscription renewal plan upgrade'.split(' ');

/** Mail from contacts and strangers, in threads, through the real ingest path. */
function messages(count: number, to: string): Buffer[] {
  let seed = 42;
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const pick = <T>(xs: T[]) => xs[Math.floor(rnd() * xs.length)]!;
  const threads: Array<{ subject: string; id: string; from: string }> = [];
  const out: Buffer[] = [];
  const t0 = Date.now() - count * 60_000;
  for (let i = 0; i < count; i++) {
    const id = `api-${i}@mail${i % 30}.example`;
    const reply = threads.length > 5 && rnd() < 0.6 ? pick(threads) : null;
    const from = reply?.from ?? `${pick(FIRST)} ${pick(LAST)} <c${Math.floor(rnd() * CONTACTS)}@client${i % 30}.example>`;
    const subject = reply ? `Re: ${reply.subject}` : `${pick(WORDS)} ${pick(WORDS)} #${i}`;
    if (!reply) threads.push({ subject, id, from });
    const body = Array.from({ length: 40 }, () => Array.from({ length: 10 }, () => pick(WORDS)).join(' ')).join('\r\n');
    out.push(
      Buffer.from(
        [`From: ${from}`, `To: Support <${to}>`, `Subject: ${subject}`, `Message-ID: <${id}>`, ...(reply ? [`In-Reply-To: <${reply.id}>`, `References: <${reply.id}>`] : []), `Date: ${new Date(t0 + i * 60_000).toUTCString()}`, 'Content-Type: text/plain; charset=utf-8', '', body, ''].join('\r\n'),
      ),
    );
  }
  return out;
}

export async function seed(t: TestApp): Promise<Req[]> {
  const a = await t.account('enterprise');
  const admin = await t.env.db.selectFrom('users').selectAll().where('id', '=', a.adminUserId).executeTakeFirstOrThrow();
  const actor: Actor = { user: admin, accountId: a.accountId, plan: 'enterprise' };
  const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Support' })).json();
  const team = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: 'support@api.example', inboxId: inbox.id });
  const tokens = [a.token];
  const userIds = [a.adminUserId];
  for (let u = 1; u < USERS; u++) {
    const r = await t.api(a.token, 'POST', '/api/v1/users', { email: `agent${u}@api.example`, name: `Agent ${u}`, role: 'member', seat: 'paid', password: 'correct horse battery' });
    if (r.statusCode !== 201) throw new Error(`creating a user: ${r.statusCode} ${r.body}`);
    const id = r.json().user.id as string;
    const tok = await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'bench', userId: id });
    if (tok.statusCode !== 201) throw new Error(`creating a token: ${tok.statusCode} ${tok.body}`);
    tokens.push(tok.json().token);
    userIds.push(id);
  }
  for (let i = 0; i < CONTACTS; i++) {
    await createContact(t.env, actor, { firstName: FIRST[i % FIRST.length]!, lastName: `${LAST[Math.floor(i / FIRST.length) % LAST.length]}${i}`, emails: [`c${i}@client${i % 30}.example`] });
  }
  const ingestor = createIngestor(t.env);
  const raws = messages(MESSAGES, team.address);
  for (let i = 0; i < raws.length; i += 100) {
    await ingestBatch(ingestor, team, raws.slice(i, i + 100).map((raw, j) => ({ raw, source: 'smtp' as const, direction: 'inbound' as const, receivedAt: Date.now() - (raws.length - i - j) * 60_000 })));
  }
  const convs = await t.env.db.selectFrom('conversations').select('id').where('connection_id', '=', team.id).orderBy('id').execute();
  // A quarter assigned to the agents, so 'mine' has rows.
  for (let i = 0; i < convs.length; i += 4) await t.env.db.updateTable('conversations').set({ assignee_id: userIds[(i / 4) % USERS]! }).where('id', '=', convs[i]!.id).execute();
  const views = ['open', 'all', 'unassigned', 'mine'];
  const list: Req[] = [];
  for (let i = 0; i < 300; i++) {
    const token = tokens[i % USERS]!;
    const k = i % 3;
    if (k === 0) list.push({ kind: 'list', token, path: `/api/v1/inboxes/${inbox.id}/conversations?view=${views[Math.floor(i / 3) % views.length]}` });
    else if (k === 1) list.push({ kind: 'thread', token, path: `/api/v1/conversations/${convs[(i * 7919) % convs.length]!.id}` });
    else list.push({ kind: 'contacts', token, path: `/api/v1/contacts?q=${encodeURIComponent(FIRST[(i * 13) % FIRST.length]!.toLowerCase().slice(0, 3))}` });
  }
  return list;
}

/** Serves each (token, URL) the bytes the API answered for it. */
async function bareApp(bodies: Map<string, string>): Promise<FastifyInstance> {
  const bare = Fastify({ logger: false });
  bare.get('*', async (req, reply) => reply.type('application/json; charset=utf-8').send(bodies.get(`${req.headers.authorization}|${req.url}`) ?? '{}'));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  return bare;
}

async function onApi(kind: DbKind): Promise<BenchRow[]> {
  return onDatabase(kind, async () => {
    // The PostgreSQL pool a Mailroom process opens (the test database's is larger, for test files).
    const t = await createTestApp({ pgPoolSize: DEFAULT_PG_POOL_SIZE });
    let bare: FastifyInstance | null = null;
    try {
      const s0 = performance.now();
      const list = await seed(t);
      // Planner statistics as a running Mailroom has them a minute later: PostgreSQL's autovacuum analyses
      // tables that changed this much, SQLite's connection runs PRAGMA optimize hourly and at open.
      await sql.raw(kind === 'postgres' ? 'analyze' : 'pragma optimize').execute(t.env.db);
      const seedSeconds = Math.round((performance.now() - s0) / 1000);
      const convCount = Number((await t.env.db.selectFrom('conversations').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
      // Every request answers 200 before the load; the bare server gets the same bytes.
      const bodies = new Map<string, string>();
      const sizes: Record<Req['kind'], number[]> = { list: [], thread: [], contacts: [] };
      for (const r of list) {
        const res = await t.api(r.token, 'GET', r.path);
        if (res.statusCode !== 200) throw new Error(`${r.path} answered ${res.statusCode} before the load: ${res.body.slice(0, 200)}`);
        bodies.set(`Bearer ${r.token}|${r.path}`, res.body);
        sizes[r.kind].push(res.body.length);
      }
      await t.app.listen({ port: 0, host: '127.0.0.1' });
      bare = await bareApp(bodies);
      const appPort = portOf(t.app);
      const barePort = portOf(bare);
      await load(barePort, list, 1);
      await load(appPort, list, 2);
      const pairs: Array<{ app: LoadResult; bare: LoadResult }> = [];
      for (let i = 0; i < ROUNDS; i++) {
        if (i % 2 === 0) {
          const b = await load(barePort, list, SECONDS);
          pairs.push({ bare: b, app: await load(appPort, list, SECONDS) });
        } else {
          const a = await load(appPort, list, SECONDS);
          pairs.push({ app: a, bare: await load(barePort, list, SECONDS) });
        }
      }
      // Each call alone (diagnostic: which one is slow on this database).
      const per: string[] = [];
      for (const k of ['list', 'thread', 'contacts'] as const) {
        const r = await load(appPort, list.filter((x) => x.kind === k), SECONDS);
        per.push(`${k} ${Math.round(r.rate)} req/s p99 ${r.p99} ms${r.non2xx + r.errors ? `, ${r.non2xx} non-2xx ${r.errors} errors` : ''}`);
      }
      const ratio = median(pairs.map((p) => p.app.rate / p.bare.rate));
      const app = { rate: median(pairs.map((p) => p.app.rate)), p99: median(pairs.map((p) => p.app.p99)) };
      const b = { rate: median(pairs.map((p) => p.bare.rate)), p99: median(pairs.map((p) => p.bare.p99)) };
      const non2xx = pairs.reduce((s, p) => s + p.app.non2xx, 0);
      const errors = pairs.reduce((s, p) => s + p.app.errors + p.app.timeouts, 0);
      const bareFailures = pairs.reduce((s, p) => s + p.bare.non2xx + p.bare.errors + p.bare.timeouts, 0);
      const codes = new Map<string, number>();
      for (const p of pairs) for (const [c, v] of Object.entries(p.app.codes ?? {})) if (!c.startsWith('2')) codes.set(c, (codes.get(c) ?? 0) + v.count);
      const avg = (xs: number[]) => Math.round(xs.reduce((s, x) => s + x, 0) / Math.max(1, xs.length) / 1024);
      const setup = `${CONNECTIONS} connections, ${USERS} users' tokens, list/thread/contacts search in equal parts; ${convCount} conversations from ${MESSAGES} ingested messages, ${CONTACTS} contacts, seeded in ${seedSeconds} s; median of ${ROUNDS} paired ${SECONDS} s runs`;
      return [
        {
          name: `API on ${kind}: requests/s (${setup})`,
          figure: Math.round(app.rate),
          baseline: Math.round(b.rate),
          baselineName: 'bare Fastify route, same bytes',
          ratio: round2(ratio),
          goal: `>= ${GOAL_RATIO[kind]} of the bare route; 0 non-2xx, 0 errors`,
          ok: ratio >= GOAL_RATIO[kind] && non2xx === 0 && errors === 0,
          note: `each alone: ${per.join('; ')}; responses ~${avg(sizes.list)} KB list, ~${avg(sizes.thread)} KB thread, ~${avg(sizes.contacts)} KB contacts${bareFailures ? `; bare server failures ${bareFailures}` : ''}`,
        },
        {
          name: `API on ${kind}: non-2xx responses + errors/timeouts during the load (${pairs.reduce((s, p) => s + p.app.total, 0)} requests)`,
          figure: non2xx + errors,
          baseline: null,
          ratio: null,
          goal: '0',
          ok: non2xx + errors === 0,
          ...(codes.size ? { note: [...codes].map(([c, n]) => `${n} x ${c}`).join(', ') } : {}),
        },
        {
          name: `API on ${kind}: p99 latency ms (p50 ${median(pairs.map((p) => p.app.p50))} ms)`,
          figure: round1(app.p99),
          baseline: round1(b.p99),
          baselineName: 'bare Fastify route',
          ratio: b.p99 > 0 ? round2(app.p99 / b.p99) : null,
          goal: `< ${GOAL_P99_MS} ms`,
          ok: app.p99 < GOAL_P99_MS,
        },
      ];
    } finally {
      await bare?.close();
      await t.close();
    }
  });
}

export async function benchApiLoad(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of benchDatabases()) {
    if (kind === 'postgres') {
      const why = await pgUnavailable();
      if (why) {
        rows.push({ name: 'API on postgres: not run', figure: 0, baseline: null, ratio: null, goal: 'run on PostgreSQL', ok: false, note: `PostgreSQL unavailable: ${why}` });
        continue;
      }
    }
    process.stderr.write(`  api-load: ${kind}...\n`);
    rows.push(...(await onApi(kind)));
  }
  return rows;
}

// Run directly: npx tsx bench/api-load.ts
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, '/bench/'))) {
  const { markdownTable } = await import('./report.js');
  const { closeDefaultParsePool } = await import('../src/mail/parse/index.js');
  console.log(markdownTable(await benchApiLoad()));
  await closeDefaultParsePool();
  process.exit(0);
}
