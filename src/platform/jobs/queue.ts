/**
 * The durable job queue, in the database (in the manner of Solid Queue / Oban). Jobs are rows; a worker
 * claims a batch (PostgreSQL: FOR UPDATE SKIP LOCKED; SQLite: the single writer serialises claims),
 * runs them, and marks them done or schedules a retry with exponential backoff. A job whose worker died
 * is claimable again once its lock expires. Every job handler must be idempotent.
 */
import { sql } from 'kysely';
import type { Kysely, RawBuilder } from 'kysely';
import type { DB, JobsTable } from '../database/schema.js';
import type { Dialect } from '../database/database.js';
import { newId } from '../database/ids.js';
import { insertRows } from '../database/insert-rows.js';
import { UNPREPARED } from '../database/pg-prepared.js';
import type { Executor } from '../context.js';

/**
 * The states of a job (`jobs.state`): waiting, claimed by a worker, finished, given up after its
 * attempts, or cancelled before it ran (a disconnected address's pending sync).
 */
export const JOB_STATES = ['queued', 'running', 'done', 'dead', 'cancelled'] as const;
export type JobState = (typeof JOB_STATES)[number];

export interface EnqueueInput {
  queue?: string;
  kind: string;
  payload: unknown;
  runAt?: number;
  /** While a job with this key is queued or running, enqueueing the same key does nothing. */
  dedupeKey?: string;
  maxAttempts?: number;
}

export async function enqueue(db: Executor, now: number, input: EnqueueInput): Promise<string | null> {
  const id = newId('job');
  const res = await db
    .insertInto('jobs')
    .values({
      id,
      queue: input.queue ?? 'default',
      kind: input.kind,
      payload: JSON.stringify(input.payload ?? {}),
      dedupe_key: input.dedupeKey ?? null,
      state: 'queued',
      run_at: input.runAt ?? now,
      attempts: 0,
      max_attempts: input.maxAttempts ?? 8,
      locked_by: null,
      locked_until: null,
      last_error: null,
      created_at: now,
      finished_at: null,
    })
    .onConflict((oc) => oc.column('dedupe_key').doNothing())
    .executeTakeFirst();
  return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0 ? id : null;
}

/**
 * Several jobs in one statement, in order (what `enqueue` does for each, without dedupe keys: an ingest
 * batch queues one publication per event it records). Returns their ids.
 */
export async function enqueueMany(db: Executor, dialect: Dialect, now: number, inputs: ReadonlyArray<Omit<EnqueueInput, 'dedupeKey'>>): Promise<string[]> {
  if (!inputs.length) return [];
  const rows = inputs.map((input) => ({
    id: newId('job'),
    queue: input.queue ?? 'default',
    kind: input.kind,
    payload: JSON.stringify(input.payload ?? {}),
    dedupe_key: null,
    state: 'queued' as const,
    run_at: input.runAt ?? now,
    attempts: 0,
    max_attempts: input.maxAttempts ?? 8,
    locked_by: null,
    locked_until: null,
    last_error: null,
    created_at: now,
    finished_at: null,
  }));
  await insertRows(db, dialect, 'jobs', rows);
  return rows.map((r) => r.id);
}

export interface ClaimInput {
  queues: string[];
  workerId: string;
  lockMs: number;
  limit: number;
  now: number;
}

/** PostgreSQL's claim (exported for the test of its plan): see claimJobs. */
export function pgClaimStatement(c: ClaimInput) {
  const bound = c.limit * 2 + 32;
  const parts = c.queues.flatMap((queue) => [
    sql`(SELECT id FROM jobs WHERE state = 'queued' AND queue = ${queue} AND run_at <= ${c.now} ORDER BY run_at LIMIT ${bound})`,
    sql`(SELECT id FROM jobs WHERE state = 'running' AND queue = ${queue} AND locked_until < ${c.now} ORDER BY run_at LIMIT ${bound})`,
  ]);
  return pgClaimUpdate(c, c.limit, sql`id = ANY(ARRAY(${sql.join(parts, sql` UNION ALL `)})) AND `);
}

/**
 * Locks and takes up to `limit` of the ready jobs of `c.queues` (among `candidates`, a condition ending in AND,
 * when given), earliest first. Among candidates, the state is written so that no index serves it: the
 * candidates' ids (primary key) are then the only way in. Otherwise statistics taken before a backlog arrived
 * (jobs_ready_idx estimated at a row) had the locking select walk every ready job through jobs_ready_idx and
 * filter them by the candidate ids: 4.5-8 ms a claim with 3,000 queued instead of a few dozen lookups.
 */
function pgClaimUpdate(c: ClaimInput, limit: number, candidates?: RawBuilder<unknown>) {
  const state = candidates ? sql.raw(`(state || '')`) : sql.raw('state');
  return sql<JobsTable>`
    UPDATE jobs SET state = 'running', locked_by = ${c.workerId}, locked_until = ${c.now + c.lockMs}, attempts = attempts + 1
    WHERE id IN (
      SELECT id FROM jobs
      WHERE ${candidates ?? sql``}queue IN (${sql.join(c.queues)})
        AND ((${state} = 'queued' AND run_at <= ${c.now}) OR (${state} = 'running' AND locked_until < ${c.now}))
      ORDER BY run_at
      LIMIT ${limit}
      FOR UPDATE SKIP LOCKED)
    RETURNING *`;
}

export async function claimJobs(db: Kysely<DB>, dialect: Dialect, c: ClaimInput): Promise<JobsTable[]> {
  if (dialect === 'postgres') {
    // The candidates first, each queue's queued and expired jobs read from jobs_ready_idx (state, queue,
    // run_at) in run_at order up to a bound, then those locked (SKIP LOCKED, conditions checked again) and
    // the earliest taken. One select with the OR of both states over `queue in (...)` (FOR UPDATE rules out
    // a UNION there) read and sorted every ready job: ~1 ms a claim with 4,000 publication jobs queued (a
    // webhooks fan-out backlog), growing with the backlog. The bound (twice the limit and 32) leaves room
    // for the jobs that claims running at the same time lock first (skipped here).
    const rows = (await pgClaimStatement(c).execute(db)).rows;
    if (rows.length >= c.limit) return rows;
    // Fewer than asked: the candidates may have been locked by others (a fan-out's transaction finishing
    // the publication jobs it took along holds up to 500 of them until it commits), or there are no more.
    // Looked at without the bound, as before: every ready job, locked ones skipped.
    const more = await pgClaimUpdate(c, c.limit - rows.length).execute(db);
    return rows.concat(more.rows);
  }
  return db.transaction().execute(async (trx) => {
    // Each queue's queued and expired jobs in run_at order, each read from jobs_ready_idx (state, queue,
    // run_at) up to the limit, then the earliest of them: one statement with `queue in (...)` and the OR of
    // both states was run by SQLite as two index searches of every ready job, sorted: ~300 us of CPU a
    // claim with 2,000 publication jobs queued (a webhooks fan-out backlog), growing with the backlog.
    const parts = c.queues.flatMap((queue) => [
      sql`select * from (select id, run_at from jobs where state = 'queued' and queue = ${queue} and run_at <= ${c.now} order by run_at limit ${c.limit})`,
      sql`select * from (select id, run_at from jobs where state = 'running' and queue = ${queue} and locked_until < ${c.now} order by run_at limit ${c.limit})`,
    ]);
    const ids = (await sql<{ id: string }>`select id from (${sql.join(parts, sql` union all `)}) order by run_at limit ${c.limit}`.execute(trx)).rows;
    if (!ids.length) return [];
    return trx
      .updateTable('jobs')
      .set((eb) => ({ state: 'running', locked_by: c.workerId, locked_until: c.now + c.lockMs, attempts: eb('attempts', '+', 1) }))
      .where('id', 'in', ids.map((r) => r.id))
      .returningAll()
      .execute();
  });
}

export async function completeJob(db: Executor, id: string, workerId: string, now: number): Promise<void> {
  await db.updateTable('jobs').set({ state: 'done', finished_at: now, locked_by: null, locked_until: null, dedupe_key: null }).where('id', '=', id).where('locked_by', '=', workerId).execute();
}

/** Exponential backoff with a cap: 2s, 4s, 8s ... 15 min. */
export function retryDelayMs(attempt: number): number {
  return Math.min(15 * 60_000, 1000 * 2 ** Math.max(1, attempt));
}

export async function failJob(db: Executor, job: JobsTable, workerId: string, now: number, error: string, retryInMs?: number): Promise<'retry' | 'dead'> {
  const dead = job.attempts >= job.max_attempts;
  await db
    .updateTable('jobs')
    .set(
      dead
        ? { state: 'dead', last_error: error.slice(0, 2000), finished_at: now, locked_by: null, locked_until: null, dedupe_key: null }
        : { state: 'queued', last_error: error.slice(0, 2000), run_at: now + (retryInMs ?? retryDelayMs(job.attempts)), locked_by: null, locked_until: null },
    )
    .where('id', '=', job.id)
    .where('locked_by', '=', workerId)
    .execute();
  return dead ? 'dead' : 'retry';
}

/** Puts a job back in the queue without counting an attempt (see RunAgain). */
export async function requeueJob(db: Executor, job: JobsTable, workerId: string, runAt: number): Promise<void> {
  await db.updateTable('jobs').set({ state: 'queued', run_at: runAt, attempts: 0, locked_by: null, locked_until: null, last_error: null }).where('id', '=', job.id).where('locked_by', '=', workerId).execute();
}

/**
 * Removes, without running them, the queued jobs of `kind` whose payloads are among `payloads` (as
 * stored, JSON text): another job already did their work (a fan-out that published the events of the
 * publication jobs queued after its own), in the caller's transaction. Removed rather than marked done:
 * a done row is read by nothing, and on PostgreSQL marking it done writes a new version of the row and
 * an entry in each of the table's three indexes (its state is in jobs_ready_idx), a delete only marks
 * the row (~11 against ~3 us a job, 20,000 publication jobs 200 per statement). Jobs already claimed run
 * and find nothing to do.
 *
 * `runAt`, when the caller knows when those jobs were queued to run (a publication job runs at its
 * event's time), bounds the look-up to that stretch of the ready index instead of every queued job of
 * the queue; a job outside it (retried, so queued again later) is not removed here, runs, and finds
 * nothing to do. The payloads go as one parameter (the same text for any number: no list of placeholders
 * compiled per call): on PostgreSQL an array, the statement planned for its values on every call, so that
 * the array is a constant and PostgreSQL hashes it (a prepared statement's generic plan compares each job
 * with every payload; as a join against the list, planned with the table's statistics from before the
 * backlog, it re-read the list for each job: ~40 ms for 200); on SQLite a JSON array, which `in` turns
 * into a temporary index once.
 */
export async function dropQueuedJobs(db: Executor, dialect: Dialect, queue: string, kind: string, payloads: readonly string[], runAt?: { from: number; to: number }): Promise<void> {
  if (!payloads.length) return;
  const range = runAt ? sql` and run_at >= ${runAt.from} and run_at <= ${runAt.to}` : sql``;
  if (dialect === 'postgres') {
    await sql`${sql.raw(UNPREPARED)}delete from jobs where state = 'queued' and queue = ${queue} and kind = ${kind}${range} and payload = any(${payloads}::text[])`.execute(db);
    return;
  }
  await sql`delete from jobs where state = 'queued' and queue = ${queue} and kind = ${kind}${range} and payload in (select value from json_each(${JSON.stringify(payloads)}))`.execute(db);
}
