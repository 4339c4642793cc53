/**
 * Tracking endpoint throughput (issue 6): the open pixel (`GET /t/o/:token`) and the click redirect
 * (`GET /t/c/:token`) of the real Mailroom app (auth and metrics hooks, HMAC check, link lookup with its
 * cache, batched hit writes to the database, bot classification) against a bare Fastify route returning
 * the same bytes (the same GIF and headers; the same 302 and Location), in the same process, same run,
 * same load tool: a keep-alive HTTP loop (node:http Agent) in a worker thread, so the load generator
 * does not share the servers' event loop. Goal: 50% or more of the bare route.
 *
 *   npm run bench -- tracking
 *   BENCH_TRACKING_SECONDS=5 BENCH_TRACKING_CONCURRENCY=32 BENCH_TRACKING_ROUNDS=3
 */
import { Worker } from 'node:worker_threads';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { createTestApp, type TestApp } from '../test/support/app.js';
import { insertConnection } from '../test/support/connections.js';
import { createIngestor } from '../src/app/engine.js';
import { sendEmailFromContact } from '../src/features/personal/commands/sendEmailFromContact.js';
import { createContact } from '../src/features/crm/commands/createContact.js';
import type { Actor } from '../src/platform/context.js';
import { PIXEL_GIF, flushTrackingHits } from '../src/features/personal/routes/tracking.js';
import { signTrackingId } from '../src/platform/security/tracking-signature.js';
import type { BenchRow } from './report.js';
import { median } from './databases.js';

const UA = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';

/** The load loop, run in a worker thread (plain CommonJS so it needs no loader). */
const LOAD_LOOP = `
const http = require('node:http');
const { parentPort, workerData } = require('node:worker_threads');
const { port, paths, seconds, concurrency, expect, ua } = workerData;
const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
let done = 0, bad = 0, errors = 0;
const end = Date.now() + seconds * 1000;
function one(i) {
  if (Date.now() >= end) return Promise.resolve();
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: paths[i % paths.length], method: 'GET', agent, headers: { 'user-agent': ua } }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode !== expect) bad++; done++; resolve(); });
    });
    req.on('error', () => { errors++; resolve(); });
    req.end();
  }).then(() => one(i + concurrency));
}
Promise.all(Array.from({ length: concurrency }, (_, i) => one(i))).then(() => { agent.destroy(); parentPort.postMessage({ done, bad, errors }); });
`;

interface LoadResult {
  rate: number;
  done: number;
  bad: number;
  errors: number;
}

function load(port: number, paths: string[], expect: number, seconds: number, concurrency: number): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const w = new Worker(LOAD_LOOP, { eval: true, workerData: { port, paths, seconds, concurrency, expect, ua: UA } });
    const t0 = performance.now();
    w.once('message', (m: { done: number; bad: number; errors: number }) => {
      const s = (performance.now() - t0) / 1000;
      resolve({ ...m, rate: Math.round(m.done / s) });
      void w.terminate();
    });
    w.once('error', reject);
  });
}

const portOf = (app: FastifyInstance) => (app.server.address() as AddressInfo).port;

/** The same bytes and headers as the tracking routes, nothing else. */
async function bareApp(destination: string): Promise<FastifyInstance> {
  const bare = Fastify({ logger: false });
  bare.get('/t/o/:token', async (_req, reply) =>
    reply.header('cache-control', 'no-store, no-cache, must-revalidate, private, max-age=0').header('pragma', 'no-cache').header('expires', '0').type('image/gif').send(PIXEL_GIF),
  );
  bare.get('/t/c/:token', async (_req, reply) =>
    reply.header('cache-control', 'no-store, no-cache, must-revalidate, private, max-age=0').header('pragma', 'no-cache').header('expires', '0').header('referrer-policy', 'no-referrer').redirect(destination, 302),
  );
  await bare.listen({ port: 0, host: '127.0.0.1' });
  return bare;
}

async function seed(t: TestApp, emails: number): Promise<{ pixels: string[]; clicks: string[]; destination: string }> {
  const a = await t.account('enterprise');
  const user = await t.env.db.selectFrom('users').selectAll().where('id', '=', a.adminUserId).executeTakeFirstOrThrow();
  const actor: Actor = { user, accountId: a.accountId, plan: 'enterprise' };
  await insertConnection(t, {
    accountId: a.accountId,
    userId: a.adminUserId,
    type: 'personal',
    address: 'bench@sales.example',
    imap: { host: '127.0.0.1', port: 1, username: 'bench', password: 'x' },
    smtp: { host: '127.0.0.1', port: 1, username: 'bench', password: 'x' },
  });
  const ingestor = createIngestor(t.env);
  const deps = { putBlob: (raw: Buffer) => ingestor.blobs.put(raw), replyTokenSecret: ingestor.replyTokenSecret };
  const secret = t.env.secrets.derive('tracking');
  const destination = 'https://portal.example/pricing?plan=pro&seats=5';
  const pixels: string[] = [];
  const clicks: string[] = [];
  for (let i = 0; i < emails; i++) {
    const c = await createContact(t.env, actor, { firstName: `Contact${i}`, emails: [`c${i}@client.example`] });
    const e = await sendEmailFromContact(t.env, actor, c.id, { subject: `Offer ${i}`, html: `<p>Hi</p><p><a href="${destination}">pricing</a> <a href="https://portal.example/terms">terms</a></p>` }, deps);
    const pe = await t.env.db.selectFrom('personal_emails').select('outbox_id').where('id', '=', e.id).executeTakeFirstOrThrow();
    // Sent an hour ago (as if delivered): hits are people, not prefetches.
    await t.env.db.updateTable('outbox').set({ state: 'sent', sent_at: Date.now() - 3600_000 }).where('id', '=', pe.outbox_id).execute();
    pixels.push(`/t/o/${signTrackingId('open', e.id, secret)}`);
    const links = await t.env.db.selectFrom('tracking_links').select(['id', 'url']).where('personal_email_id', '=', e.id).where('url', '=', destination).execute();
    clicks.push(...links.map((l) => `/t/c/${signTrackingId('click', l.id, secret)}`));
  }
  return { pixels, clicks, destination };
}

export async function benchTracking(): Promise<BenchRow[]> {
  const seconds = Number(process.env.BENCH_TRACKING_SECONDS ?? 5);
  const concurrency = Number(process.env.BENCH_TRACKING_CONCURRENCY ?? 32);
  const rounds = Number(process.env.BENCH_TRACKING_ROUNDS ?? 3);
  const t = await createTestApp({ configEnv: { PUBLIC_URL: 'https://crm.bench.example' } });
  let bare: FastifyInstance | null = null;
  try {
    const { pixels, clicks, destination } = await seed(t, 50);
    await t.app.listen({ port: 0, host: '127.0.0.1' });
    bare = await bareApp(destination);
    const appPort = portOf(t.app);
    const barePort = portOf(bare);

    const rows: BenchRow[] = [];
    for (const [what, paths, status] of [
      ['open pixel GET /t/o/:token', pixels, 200],
      ['click redirect GET /t/c/:token', clicks, 302],
    ] as const) {
      // Warm both (JIT, link cache, connections), then run them in pairs (alternating which goes first):
      // this machine is noisy, so the figure is the median of the per-pair ratios, not of separate medians.
      await load(barePort, [...paths], status, 1, concurrency);
      await load(appPort, [...paths], status, 1, concurrency);
      const pairs: Array<{ app: LoadResult; bare: LoadResult }> = [];
      for (let i = 0; i < rounds; i++) {
        if (i % 2 === 0) {
          const b = await load(barePort, [...paths], status, seconds, concurrency);
          pairs.push({ bare: b, app: await load(appPort, [...paths], status, seconds, concurrency) });
        } else {
          const a = await load(appPort, [...paths], status, seconds, concurrency);
          pairs.push({ app: a, bare: await load(barePort, [...paths], status, seconds, concurrency) });
        }
        await flushTrackingHits(t.env);
      }
      const ratio = median(pairs.map((p) => p.app.rate / p.bare.rate));
      const a = { rate: median(pairs.map((p) => p.app.rate)) };
      const b = { rate: median(pairs.map((p) => p.bare.rate)) };
      const failures = pairs.reduce((s, p) => s + p.app.bad + p.app.errors + p.bare.bad + p.bare.errors, 0);
      rows.push({
        name: `tracking: ${what}, requests/s (${concurrency} keep-alive connections, median of ${rounds} paired ${seconds} s runs)`,
        figure: a.rate,
        baseline: b.rate,
        baselineName: 'bare Fastify route, same bytes',
        ratio: Math.round(ratio * 100) / 100,
        goal: '>= 50% of the bare route',
        ok: ratio >= 0.5 && failures === 0,
        ...(failures ? { note: `${failures} failed or unexpected responses` } : {}),
      });
    }
    // Every hit served was recorded (the batched writer kept up).
    await flushTrackingHits(t.env);
    const recorded = Number((await t.env.db.selectFrom('tracking_hits').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
    const flagged = Number((await t.env.db.selectFrom('tracking_hits').select((eb) => eb.fn.countAll<number>().as('n')).where('flagged', '=', 1).executeTakeFirstOrThrow()).n);
    rows.push({ name: 'tracking: hits written to the database during the run (flagged as bots)', figure: recorded, baseline: null, ratio: null, goal: `all served hits recorded; ${flagged} flagged`, ok: null });
    return rows;
  } finally {
    await bare?.close();
    await t.close();
  }
}

// Run directly: npx tsx bench/tracking.ts
if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/^.*\/bench\//, '/bench/'))) {
  const { markdownTable } = await import('./report.js');
  console.log(markdownTable(await benchTracking()));
  process.exit(0);
}
