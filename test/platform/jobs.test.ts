import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pino from 'pino';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { claimJobs, dropQueuedJobs, enqueue, enqueueMany, failJob, completeJob, pgClaimStatement } from '../../src/platform/jobs/queue.js';
import { sql } from 'kysely';
import { acquireLease, releaseLease } from '../../src/platform/jobs/lease.js';
import { JobWorker, RetryLater } from '../../src/platform/jobs/worker.js';
import type { CommandEnv } from '../../src/platform/context.js';

let t: TestDatabase;
beforeAll(async () => {
  t = await createTestDatabase();
});
afterAll(async () => {
  await t?.drop();
});

const queue = () => `q-${Math.random().toString(36).slice(2, 8)}`;

describe('durable job queue', () => {
  it('dedupes queued jobs by key and frees the key when done', async () => {
    const q = queue();
    const first = await enqueue(t.db, 1000, { queue: q, kind: 'k', payload: { a: 1 }, dedupeKey: `${q}:x` });
    const dup = await enqueue(t.db, 1000, { queue: q, kind: 'k', payload: { a: 2 }, dedupeKey: `${q}:x` });
    expect(first).toBeTruthy();
    expect(dup).toBeNull();
    const [job] = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w1', lockMs: 1000, limit: 10, now: 1000 });
    expect(job!.attempts).toBe(1);
    await completeJob(t.db, job!.id, 'w1', 1001);
    expect(await enqueue(t.db, 1002, { queue: q, kind: 'k', payload: {}, dedupeKey: `${q}:x` })).toBeTruthy();
  });

  it('retries with backoff, then marks the job dead after max attempts', async () => {
    const q = queue();
    await enqueue(t.db, 0, { queue: q, kind: 'k', payload: {}, maxAttempts: 2 });
    let [job] = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w', lockMs: 1000, limit: 1, now: 0 });
    expect(await failJob(t.db, job!, 'w', 10, 'boom')).toBe('retry');
    expect(await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w', lockMs: 1000, limit: 1, now: 11 })).toEqual([]);
    [job] = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w', lockMs: 1000, limit: 1, now: 60_000 });
    expect(job!.attempts).toBe(2);
    expect(await failJob(t.db, job!, 'w', 60_001, 'boom again')).toBe('dead');
    const row = await t.db.selectFrom('jobs').selectAll().where('id', '=', job!.id).executeTakeFirstOrThrow();
    expect(row.state).toBe('dead');
    expect(row.last_error).toBe('boom again');
  });

  it('gives a job whose worker died to another worker once its lock expires', async () => {
    const q = queue();
    await enqueue(t.db, 0, { queue: q, kind: 'k', payload: {} });
    const [a] = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'dead-worker', lockMs: 5000, limit: 1, now: 0 });
    expect(a).toBeTruthy();
    expect(await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w2', lockMs: 5000, limit: 1, now: 4000 })).toEqual([]);
    const [b] = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w2', lockMs: 5000, limit: 1, now: 6000 });
    expect(b!.id).toBe(a!.id);
    expect(b!.locked_by).toBe('w2');
    // The dead worker's late completion does not touch a job it no longer holds.
    await completeJob(t.db, a!.id, 'dead-worker', 6001);
    expect((await t.db.selectFrom('jobs').select('state').where('id', '=', a!.id).executeTakeFirstOrThrow()).state).toBe('running');
  });

  it('claims the earliest ready jobs of all its queues, queued or with an expired lock, in run_at order', async () => {
    const [q1, q2, other] = [queue(), queue(), queue()];
    const id = async (q: string, runAt: number) => (await enqueue(t.db, 0, { queue: q, kind: 'k', payload: { q, runAt }, runAt }))!;
    const a = await id(q1, 100);
    const b = await id(q2, 200);
    const expired = await id(q1, 300);
    const c = await id(q2, 400);
    const d = await id(q1, 500);
    await id(q1, 5000); // not due
    await id(other, 50); // another queue
    // `expired` is running for a worker that died: its lock ended at 1000.
    await t.db.updateTable('jobs').set({ state: 'running', locked_by: 'dead', locked_until: 1000 }).where('id', '=', expired).execute();
    const first = await claimJobs(t.db, t.dialect, { queues: [q1, q2], workerId: 'w', lockMs: 1000, limit: 3, now: 2000 });
    expect(first.map((j) => j.id).sort()).toEqual([a, b, expired].sort());
    const second = await claimJobs(t.db, t.dialect, { queues: [q2, q1], workerId: 'w', lockMs: 1000, limit: 10, now: 2000 });
    expect(second.map((j) => j.id).sort()).toEqual([c, d].sort());
    expect(await claimJobs(t.db, t.dialect, { queues: [q1, q2], workerId: 'w', lockMs: 1000, limit: 10, now: 2000 })).toEqual([]);
  });

  /** PostgreSQL: a claim of 4 from queue `q` (and an empty one) planned and run, then rolled back: the rows each node of its plan produced. */
  async function claimPlanRows(q: string): Promise<number[]> {
    let plan: unknown;
    const rollback = new Error('rollback');
    await t.db
      .transaction()
      .execute(async (trx) => {
        plan = (await sql<{ 'QUERY PLAN': unknown }>`explain (analyze, format json) ${pgClaimStatement({ queues: [q, queue()], workerId: 'w', lockMs: 1000, limit: 4, now: 10_000 })}`.execute(trx)).rows[0]!['QUERY PLAN'];
        throw rollback;
      })
      .catch((err) => {
        if (err !== rollback) throw err;
      });
    const text = typeof plan === 'string' ? plan : JSON.stringify(plan);
    return [...text.matchAll(/"Actual Rows":\s*(\d+)/g)].map((m) => Number(m[1]));
  }

  it.runIf(process.env.DATABASE_URL)('PostgreSQL: a claim reads a bounded number of each queue\'s ready jobs, not all of them', async () => {
    const q = queue();
    await enqueueMany(t.db, t.dialect, 0, Array.from({ length: 2000 }, (_, i) => ({ queue: q, kind: 'k', payload: { i }, runAt: i })));
    await sql`analyze jobs`.execute(t.db);
    const rows = await claimPlanRows(q);
    expect(rows.length).toBeGreaterThan(0);
    expect(Math.max(...rows)).toBeLessThanOrEqual(4 * 2 + 32);
    await t.db.deleteFrom('jobs').where('queue', '=', q).execute();
  });

  it.runIf(process.env.DATABASE_URL)('PostgreSQL: a claim reads a bounded number of ready jobs also when the statistics were taken before the backlog arrived', async () => {
    // What autovacuum leaves after a quiet spell: the queue unknown to the statistics, then a burst of jobs.
    const q = queue();
    await sql`analyze jobs`.execute(t.db);
    await enqueueMany(t.db, t.dialect, 0, Array.from({ length: 2000 }, (_, i) => ({ queue: q, kind: 'k', payload: { i }, runAt: i })));
    const rows = await claimPlanRows(q);
    expect(rows.length).toBeGreaterThan(0);
    expect(Math.max(...rows)).toBeLessThanOrEqual(4 * 2 + 32);
    await t.db.deleteFrom('jobs').where('queue', '=', q).execute();
  });

  it.runIf(process.env.DATABASE_URL)('PostgreSQL: a claim whose first candidates another transaction holds takes a later ready job', async () => {
    const q = queue();
    const ids = await enqueueMany(t.db, t.dialect, 0, Array.from({ length: 300 }, (_, i) => ({ queue: q, kind: 'k', payload: { i }, runAt: i })));
    // A fan-out finishing the publication jobs it took along holds their rows until it commits.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let locked!: () => void;
    const isLocked = new Promise<void>((r) => (locked = r));
    const holder = t.db.transaction().execute(async (trx) => {
      await trx.updateTable('jobs').set({ finished_at: 1 }).where('id', 'in', ids.slice(0, 250)).execute();
      locked();
      await held;
    });
    await isLocked;
    const claimed = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w', lockMs: 1000, limit: 2, now: 10_000 });
    release();
    await holder;
    // (UPDATE ... RETURNING gives its rows in no particular order.)
    expect(claimed.map((j) => j.id).sort()).toEqual(ids.slice(250, 252).sort());
    await t.db.deleteFrom('jobs').where('queue', '=', q).execute();
  });

  it('drops the queued jobs of a kind whose payloads are listed (within the run_at range), and no other', async () => {
    const q = queue();
    const payloads = Array.from({ length: 300 }, (_, i) => ({ eventId: `evt_${i}` }));
    await enqueueMany(t.db, t.dialect, 0, payloads.map((payload, i) => ({ queue: q, kind: 'events.publish', payload, runAt: 1000 + i })));
    await enqueue(t.db, 0, { queue: q, kind: 'other', payload: { eventId: 'evt_1' }, runAt: 1001 });
    const [running] = await claimJobs(t.db, t.dialect, { queues: [q], workerId: 'w', lockMs: 60_000, limit: 1, now: 1000 });
    expect(JSON.parse(running!.payload)).toEqual({ eventId: 'evt_0' });
    // evt_0 is running, evt_250 outside the range, evt_299 not listed; the rest of 0..250 listed.
    const listed = payloads.slice(0, 251).map((p) => JSON.stringify(p));
    await dropQueuedJobs(t.db, t.dialect, q, 'events.publish', listed, { from: 1000, to: 1249 });
    const left = await t.db.selectFrom('jobs').select(['kind', 'payload', 'state']).where('queue', '=', q).orderBy('run_at').execute();
    expect(left).toEqual([
      { kind: 'events.publish', payload: JSON.stringify({ eventId: 'evt_0' }), state: 'running' },
      { kind: 'other', payload: JSON.stringify({ eventId: 'evt_1' }), state: 'queued' },
      ...payloads.slice(250).map((p) => ({ kind: 'events.publish', payload: JSON.stringify(p), state: 'queued' })),
    ]);
  });

  it('never hands the same job to two concurrent claimers', async () => {
    const q = queue();
    for (let i = 0; i < 40; i++) await enqueue(t.db, 0, { queue: q, kind: 'k', payload: { i } });
    const claims = await Promise.all(Array.from({ length: 8 }, (_, w) => claimJobs(t.db, t.dialect, { queues: [q], workerId: `w${w}`, lockMs: 60_000, limit: 10, now: 1 })));
    const ids = claims.flat().map((j) => j.id);
    expect(ids.length).toBe(40);
    expect(new Set(ids).size).toBe(40);
  });

  it('a worker runs handlers, retries RetryLater, and stops gracefully', async () => {
    const q = queue();
    const seen: number[] = [];
    let flaky = 0;
    const env = { db: t.db, dialect: t.dialect, now: () => Date.now() } as unknown as CommandEnv;
    const worker = new JobWorker({
      env,
      queues: [q],
      pollMs: 20,
      log: pino({ level: 'silent' }),
      handlers: {
        add: async (p: { i: number }) => {
          seen.push(p.i);
        },
        flaky: async () => {
          flaky += 1;
          if (flaky === 1) throw new RetryLater('not yet', 10);
        },
      },
    });
    for (let i = 0; i < 5; i++) await enqueue(t.db, Date.now(), { queue: q, kind: 'add', payload: { i } });
    await enqueue(t.db, Date.now(), { queue: q, kind: 'flaky', payload: {} });
    worker.start();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      const open = await t.db.selectFrom('jobs').select('id').where('queue', '=', q).where('state', '!=', 'done').execute();
      if (open.length === 0) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    await worker.stop();
    expect(seen.sort()).toEqual([0, 1, 2, 3, 4]);
    expect(flaky).toBe(2);
  });
});

describe('leases', () => {
  it('one holder at a time; another takes over when it expires', async () => {
    const name = `lease-${Math.random()}`;
    expect(await acquireLease(t.db, name, 'a', 1000, 0)).toBe(true);
    expect(await acquireLease(t.db, name, 'b', 1000, 500)).toBe(false);
    expect(await acquireLease(t.db, name, 'a', 1000, 900)).toBe(true); // renew
    expect(await acquireLease(t.db, name, 'b', 1000, 1500)).toBe(false);
    expect(await acquireLease(t.db, name, 'b', 1000, 2000)).toBe(true); // expired at 1900
    await releaseLease(t.db, name, 'a'); // not the holder: no effect
    expect(await acquireLease(t.db, name, 'a', 1000, 2100)).toBe(false);
    const racers = await Promise.all(Array.from({ length: 10 }, (_, i) => acquireLease(t.db, `${name}-race`, `r${i}`, 1000, 0)));
    expect(racers.filter(Boolean).length).toBe(1);
  });
});
