/**
 * Webhook delivery throughput (issue 17), on SQLite and on PostgreSQL: events recorded in the outbox,
 * then the real job workers as `mailroom serve` runs them (events.publish on the default queue, 4 at
 * once; webhooks.deliver, one pump job per endpoint with up to 16 POSTs in flight, on its own queue,
 * 16 endpoints at once) fan out, sign and POST each to a receiver on
 * 127.0.0.1 that answers 200. Baseline, same run, same receiver: a bare loop of Standard Webhooks-signed
 * POSTs, 16 at once, on kept-alive connections like the sender's (no database, no queue).
 * Goals: >= 1,000 events/s, ratio to the bare loop >= 0.5, and an endpoint that times out (subscribed
 * to the same events, never answering) leaves the healthy endpoint >= 0.8 of its throughput.
 *
 *   npm run bench -- webhooks
 *   BENCH_WEBHOOKS_EVENTS=2000 BENCH_WEBHOOKS_ROUNDS=3 BENCH_WEBHOOKS_PER_SUBJECT=2 BENCH_WEBHOOKS_TIMEOUT_MS=4000 BENCH_WEBHOOKS_LIMIT_S=60 BENCH_DATABASES=sqlite
 *
 * The one-endpoint throughput and its ratio are the medians of BENCH_WEBHOOKS_ROUNDS paired rounds (delivery,
 * then the bare loop, the next round the other way round), as in bench/api-load.ts: one pair a second long
 * said more about the machine's moment than about the code (0.45 and 0.51 for the same code an hour apart).
 * After the warm-up the database is analysed, as a running Mailroom's would be by then (see runOn).
 *
 * The hanging endpoint's timeout is shortened (4 s instead of 15 s) so the run stays short; what is
 * measured is whether its attempts take the worker from the other endpoint. The statement count of the
 * warm-up goes through a counting plugin, which no measured round pays for.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql, type KyselyPlugin, type PluginTransformQueryArgs, type PluginTransformResultArgs, type QueryResult, type RootOperationNode, type UnknownRow } from 'kysely';
import pino from 'pino';
import { createTestApp, type TestApp } from '../test/support/app.js';
import { JobWorker } from '../src/platform/jobs/worker.js';
import { recordEvent } from '../src/platform/events.js';
import { allowPrivateHosts, setAllowPrivateHosts } from '../src/platform/security/host-guard.js';
import { deliverySettings, WEBHOOKS_QUEUE, webhooksFeature } from '../src/features/webhooks/index.js';
import { createEndpoint } from '../src/features/webhooks/commands/endpoints.js';
import { signatureHeaders } from '../src/features/webhooks/signature.js';
import type { Actor } from '../src/platform/context.js';
import { benchDatabases, median, onDatabase, pgUnavailable, round1, round2, type DbKind } from './databases.js';
import type { BenchRow } from './report.js';

const EVENTS = Number(process.env.BENCH_WEBHOOKS_EVENTS ?? 2000);
/** Deliveries (and bare POSTs) of the warm-up. */
const WARM_EVENTS = 4000;
const TIMEOUT_MS = Number(process.env.BENCH_WEBHOOKS_TIMEOUT_MS ?? 4000);
const CONCURRENCY = 16;
/** Paired rounds (delivery and bare loop, alternating which goes first); the ratio is the median of the pairs'. */
const ROUNDS = Math.max(1, Number(process.env.BENCH_WEBHOOKS_ROUNDS ?? 3));
/** A run that takes longer fails (raise it on a loaded machine). */
const LIMIT_MS = Number(process.env.BENCH_WEBHOOKS_LIMIT_S ?? 60) * 1000;
/** Events per contact (2: ordering per subject is exercised). */
const PER_SUBJECT = Number(process.env.BENCH_WEBHOOKS_PER_SUBJECT ?? 2);
const log = pino({ level: 'silent' });

interface Receiver {
  url: string;
  /** Requests received per path. */
  count: Map<string, number>;
  close(): Promise<void>;
}

/** Answers 200 to every POST (after reading it), or never answers (`hang`). */
async function receiver(hang = false): Promise<Receiver> {
  const count = new Map<string, number>();
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      count.set(req.url ?? '', (count.get(req.url ?? '') ?? 0) + 1);
      if (!hang) res.end('ok');
    });
  });
  // Not 1 s: a Node client takes the server's `Keep-Alive: timeout=1` as "reuse for 0 ms" and would open
  // a connection per request (for the bare loop and the sender alike), which is not what is measured.
  server.keepAliveTimeout = 10_000;
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    count,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** The bare loop: n signed POSTs, `concurrency` at once, on kept-alive connections (as the sender). */
async function bareLoop(url: string, n: number, concurrency: number): Promise<number> {
  const secret = `whsec_${Buffer.alloc(32, 1).toString('base64')}`;
  const target = new URL(url);
  let next = 0;
  const agent = new http.Agent({ keepAlive: true });
  const t0 = performance.now();
  const one = (i: number) =>
    new Promise<void>((resolve, reject) => {
      const body = JSON.stringify({ type: 'contact.updated', version: 1, timestamp: new Date().toISOString(), eventId: `evt_${i}`, data: { contactId: `con_${i}`, changed: ['firstName'] } });
      const headers = signatureHeaders(secret, `msg_${i}`, Math.floor(Date.now() / 1000), body);
      const req = http.request(
        { hostname: target.hostname, port: target.port, path: target.pathname, method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...headers } },
        (res) => {
          res.resume();
          res.on('end', resolve);
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await one(next++);
    }),
  );
  const rate = Math.round(n / ((performance.now() - t0) / 1000));
  agent.destroy();
  return rate;
}

async function adminOf(t: TestApp): Promise<{ actor: Actor; accountId: string }> {
  const a = await t.account();
  const account = await t.env.db.selectFrom('accounts').selectAll().where('id', '=', a.accountId).executeTakeFirstOrThrow();
  const user = await t.env.db.selectFrom('users').selectAll().where('id', '=', a.adminUserId).executeTakeFirstOrThrow();
  return { actor: { user, accountId: a.accountId, plan: account.plan }, accountId: a.accountId };
}

/** Records n contact.updated events (two per contact, so ordering per subject is exercised), 250 per transaction. */
async function recordEvents(t: TestApp, accountId: string, n: number, tag: string): Promise<void> {
  for (let i = 0; i < n; i += 250) {
    await t.env.db.transaction().execute(async (trx) => {
      for (let j = i; j < Math.min(n, i + 250); j++) {
        const id = `con_${tag}_${Math.floor(j / PER_SUBJECT)}`;
        await recordEvent(trx, { accountId, type: 'contact.updated', subject: { type: 'contact', id }, data: { contactId: id, changed: ['firstName'] }, at: Date.now() });
      }
    });
  }
}

/**
 * Counts the SQL statements run through it (transaction begin/commit not included): each result, so the
 * statements written as SQL text (CompiledQuery.raw, which no query transform sees) are counted too.
 */
class StatementCounter implements KyselyPlugin {
  statements = 0;
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    return args.node;
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    this.statements += 1;
    return args.result;
  }
}

/** Starts the workers as `mailroom serve` does, waits until `done()`, returns the seconds it took. */
async function runWorkers(t: TestApp, done: () => boolean, limitMs: number, counter?: StatementCounter): Promise<number> {
  const handlers = webhooksFeature().jobs();
  // As in src/app/runtime.ts: fan-out pokes the delivery worker (also through the counting env, a copy).
  const queued = t.env.onJobsQueued;
  const onJobsQueued = () => {
    queued?.();
    hooks.poke();
  };
  const env = counter ? { ...t.env, db: t.env.db.withPlugin(counter), onJobsQueued } : t.env;
  const main = new JobWorker({ env, handlers, log, queues: ['default', 'mail'] });
  const hooks = new JobWorker({ env, handlers, log, queues: [WEBHOOKS_QUEUE], concurrency: CONCURRENCY, lockMs: 60_000 });
  t.env.onJobsQueued = onJobsQueued;
  const t0 = performance.now();
  main.start();
  hooks.start();
  try {
    while (!done()) {
      if (performance.now() - t0 > limitMs) throw new Error(`not delivered within ${limitMs / 1000} s`);
      await new Promise((r) => setTimeout(r, 10));
    }
    return (performance.now() - t0) / 1000;
  } finally {
    t.env.onJobsQueued = queued;
    await Promise.all([main.stop(TIMEOUT_MS + 1000), hooks.stop(TIMEOUT_MS + 1000)]);
  }
}

async function runOn(kind: DbKind): Promise<BenchRow[]> {
  const ok = await receiver();
  const hanging = await receiver(true);
  const t = await createTestApp();
  const savedTimeout = deliverySettings.timeoutMs;
  deliverySettings.timeoutMs = TIMEOUT_MS;
  try {
    // Warm-up, not measured: connections, statement caches, and the JIT. With 50 events the first measured
    // run still paid for compiling the delivery path (it ran slower than the later run beside a hanging
    // endpoint), and the bare loop, run after it, found Node's HTTP code already optimised; both sides are
    // warmed with WARM_EVENTS now. With 1000 the first measured run still cost ~1.4-1.7 times the CPU per
    // event of the runs after it (rounds of 2000 events in one process, alternated with bare loops: ~370-400
    // us, then ~235-290 us; the bare loop's first round ~1.4 times its later ones too); after 4000, the first
    // round costs what the later ones do.
    const warm = await adminOf(t);
    await createEndpoint(t.env, warm.actor, { url: `${ok.url}/warm`, eventTypes: ['*'] });
    await recordEvents(t, warm.accountId, WARM_EVENTS, 'warm');
    // The statements are counted during the warm-up (the counting plugin costs CPU: no measured round pays for it).
    const counter = new StatementCounter();
    await runWorkers(t, () => (ok.count.get('/warm') ?? 0) >= WARM_EVENTS, 30_000, counter);
    const perEvent = round1(counter.statements / WARM_EVENTS);
    await bareLoop(`${ok.url}/warm-bare`, WARM_EVENTS, CONCURRENCY);
    process.stderr.write(`  webhooks on ${kind}: warmed up (${WARM_EVENTS} deliveries, ${WARM_EVENTS} bare POSTs); ${perEvent} SQL statements per delivered event (fan-out, jobs, delivery, log)\n`);
    // Planner statistics as a running Mailroom has them after such a warm-up: PostgreSQL's autovacuum analyses
    // tables that changed this much (these machines' server runs with autovacuum off), and an analyse replaces
    // the prepared statements' plans made while the tables were empty. SQLite: see the api-load benchmark.
    await sql.raw(kind === 'postgres' ? 'analyze' : 'pragma optimize').execute(t.env.db);

    // Throughput: one endpoint, ROUNDS paired runs against the bare loop, alternating which goes first.
    const pairs: Array<{ rate: number; bare: number }> = [];
    for (let i = 0; i < ROUNDS; i++) {
      const a = await adminOf(t);
      await createEndpoint(t.env, a.actor, { url: `${ok.url}/a${i}`, eventTypes: ['*'] });
      await recordEvents(t, a.accountId, EVENTS, `a${i}`);
      const deliver = async () => EVENTS / (await runWorkers(t, () => (ok.count.get(`/a${i}`) ?? 0) >= EVENTS, LIMIT_MS));
      const bareRun = () => bareLoop(`${ok.url}/bare${i}`, EVENTS, CONCURRENCY);
      if (i % 2 === 0) {
        const r = await deliver();
        pairs.push({ rate: r, bare: await bareRun() });
      } else {
        const b = await bareRun();
        pairs.push({ rate: await deliver(), bare: b });
      }
      process.stderr.write(`  webhooks on ${kind}: round ${i + 1}: ${EVENTS} events to one endpoint at ${Math.round(pairs[i]!.rate)}/s, bare loop ${Math.round(pairs[i]!.bare)}/s\n`);
    }
    const rate = Math.round(median(pairs.map((p) => p.rate)));
    const bare = Math.round(median(pairs.map((p) => p.bare)));
    const ratio = median(pairs.map((p) => p.rate / p.bare));

    // The same with a second endpoint that never answers, subscribed to the same events.
    const b = await adminOf(t);
    await createEndpoint(t.env, b.actor, { url: `${ok.url}/b`, eventTypes: ['*'] });
    await createEndpoint(t.env, b.actor, { url: `${hanging.url}/hang`, eventTypes: ['*'] });
    await recordEvents(t, b.accountId, EVENTS, 'b');
    const secondsB = await runWorkers(t, () => (ok.count.get('/b') ?? 0) >= EVENTS, LIMIT_MS);
    process.stderr.write(`  webhooks on ${kind}: ${EVENTS} events beside a hanging endpoint in ${round1(secondsB)} s\n`);
    const rateB = Math.round(EVENTS / secondsB);
    const hangAttempts = hanging.count.get('/hang') ?? 0;

    return [
      { name: `webhooks on ${kind}: events delivered per second (${EVENTS} events, fan-out + signed POST + log, 1 endpoint; median of ${ROUNDS} rounds)`, figure: rate, baseline: null, ratio: null, goal: '>= 1,000 events/s', ok: rate >= 1000, note: `${perEvent} SQL statements per delivered event (warm-up); rounds ${pairs.map((p) => Math.round(p.rate)).join(', ')} events/s` },
      {
        name: `webhooks on ${kind}: delivery vs a bare loop of signed POSTs (${CONCURRENCY} at once, same receiver; median of ${ROUNDS} paired rounds)`,
        figure: rate,
        baseline: bare,
        baselineName: 'bare signed POSTs/s',
        ratio: round2(ratio),
        goal: 'ratio >= 0.5',
        ok: ratio >= 0.5,
        note: `ratios of the rounds ${pairs.map((p) => round2(p.rate / p.bare)).join(', ')}`,
      },
      {
        name: `webhooks on ${kind}: healthy endpoint's events/s beside one that times out (${TIMEOUT_MS} ms)`,
        figure: rateB,
        baseline: rate,
        baselineName: 'events/s alone',
        ratio: round2(rateB / rate),
        goal: 'ratio >= 0.8',
        ok: rateB / rate >= 0.8,
        note: `${hangAttempts} attempts reached the hanging endpoint in ${round1(secondsB)} s`,
      },
    ];
  } finally {
    deliverySettings.timeoutMs = savedTimeout;
    await t.close();
    await ok.close();
    await hanging.close();
  }
}

export async function benchWebhooks(): Promise<BenchRow[]> {
  const saved = allowPrivateHosts();
  setAllowPrivateHosts(['127.0.0.1']);
  const rows: BenchRow[] = [];
  try {
    for (const kind of benchDatabases()) {
      if (kind === 'postgres') {
        const why = await pgUnavailable();
        if (why) {
          rows.push({ name: 'webhooks on postgres: not run', figure: 0, baseline: null, ratio: null, goal: 'runs', ok: false, note: why.slice(0, 200) });
          continue;
        }
      }
      rows.push(...(await onDatabase(kind, () => runOn(kind))));
    }
  } finally {
    setAllowPrivateHosts(saved);
  }
  return rows;
}
