/**
 * Sequences (issue 15), on SQLite and PostgreSQL, each figure against a baseline measured in the same run:
 *
 * - due-step selection among 100,000 live enrollments (5,000 due), p99 ms per batch of 500; baseline:
 *   reading 500 known rows by primary key (the least any tick must do with its batch);
 * - the scheduler's tick over 500 due steps (claim by conditional update, ledger row, history, next due
 *   time, in one transaction each); baseline: a bare loop doing a SELECT and an UPDATE of each of 500 other
 *   due rows, one transaction each. Ticks and bare loops alternate over different due rows. Task steps,
 *   so the figure is the scheduler's own work (an email step adds MIME building and the outbox row);
 * - an empty tick (nothing due) among the same 100,000: the work grows with due steps, not enrollments;
 * - ingest overhead of the reply hook: per-message ingest time of batches of 100 messages from people who
 *   are not enrolled, into an account with 10,000 live enrollments, with the sequences hook vs without it
 *   (alternating rounds, median of each).
 */
import { createTestApp, type TestApp } from '../test/support/app.js';
import { insertConnection } from '../test/support/connections.js';
import { createIngestor } from '../src/app/engine.js';
import { ingestBatch } from '../src/features/ingest/index.js';
import { sequencesFeature } from '../src/features/sequences/index.js';
import { dueEnrollments, runDueSteps } from '../src/features/sequences/commands/runDueSteps.js';
import type { CommandEnv } from '../src/platform/context.js';
import type { BenchRow } from './report.js';
import { benchDatabases, median, onDatabase, percentile, pgUnavailable, round2, type DbKind } from './databases.js';

const ENROLLMENTS = Number(process.env.BENCH_SEQUENCE_ENROLLMENTS ?? 100_000);
const DUE = 5_000;
const BATCH = 500;
const DAY = 24 * 3600_000;

/** Alternating rounds of the reply-hook comparison (the first two warm up): each side's median is of ROUNDS - 2 batches. */
const ROUNDS = Number(process.env.BENCH_SEQ_HOOK_ROUNDS ?? 32);

async function setup(t: TestApp) {
  const a = await t.account('enterprise');
  const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'personal', address: 'bench-seq@bench.test' });
  const created = await t.api(a.token, 'POST', '/api/v1/sequences', {
    name: 'Bench',
    settings: { timeZone: 'UTC', window: { start: '00:00', end: '23:59' }, weekdays: [1, 2, 3, 4, 5, 6, 7] },
    steps: [
      { type: 'call', note: 'Call them' },
      { type: 'call', delay: { unit: 'business_days', value: 1 }, note: 'Call again' },
      { type: 'task', delay: { unit: 'business_days', value: 1 }, note: 'Write' },
    ],
  });
  if (created.statusCode !== 201) throw new Error(`sequence: ${created.body}`);
  const seq = await t.database.db.selectFrom('sequences').selectAll().where('id', '=', created.json().id).executeTakeFirstOrThrow();
  return { a, conn, seq };
}

async function fill(t: TestApp, s: Awaited<ReturnType<typeof setup>>, now: number, count: number, due: number, prefix: string) {
  for (let i = 0; i < count; i += 500) {
    const rows = [];
    for (let k = i; k < Math.min(count, i + 500); k++) {
      const contact = `${prefix}ct_${k}`;
      rows.push({
        id: `${prefix}enr_${String(k).padStart(7, '0')}`,
        account_id: s.a.accountId,
        sequence_id: s.seq.id,
        sequence_version: s.seq.version,
        definition: s.seq.definition,
        contact_id: contact,
        active_contact_id: contact,
        contact_email: `p${k}@${prefix}c${k % 5000}.bench`,
        email_domain: `${prefix}c${k % 5000}.bench`,
        company_id: null,
        user_id: s.a.adminUserId,
        connection_id: s.conn.id,
        time_zone: 'UTC',
        state: 'active' as const,
        reason: null,
        step_index: 0,
        // Due ones spread over the last hour; the others over the next 60 days.
        next_due_at: k < due ? now - 3600_000 + k : now + DAY + (k % 60) * DAY,
        last_due_at: now - DAY,
        thread: '{}',
        enrolled_at: now - DAY,
        ended_at: null,
        updated_at: now,
      });
    }
    await t.database.db.insertInto('sequence_enrollments').values(rows).execute();
  }
}

async function onOne(kind: DbKind): Promise<BenchRow[]> {
  const t = await createTestApp();
  try {
    const now = Date.now();
    const s = await setup(t);
    await fill(t, s, now, ENROLLMENTS, DUE, '');
    const env: CommandEnv = { ...t.env, now: () => now };
    const ingestor = createIngestor(t.env);
    const deps = { putBlob: (raw: Buffer) => ingestor.blobs.put(raw), replyTokenSecret: ingestor.replyTokenSecret };

    // Due selection vs reading 500 known rows, interleaved.
    const known = (await dueEnrollments(t.env.db, now, BATCH)).map((r) => r.id);
    const sel: number[] = [];
    const base: number[] = [];
    for (let i = 0; i < 120; i++) {
      let t0 = performance.now();
      const got = await dueEnrollments(t.env.db, now, BATCH);
      sel.push(performance.now() - t0);
      if (got.length !== BATCH) throw new Error(`due selection returned ${got.length}`);
      t0 = performance.now();
      await t.env.db.selectFrom('sequence_enrollments').select('id').where('id', 'in', known).execute();
      base.push(performance.now() - t0);
    }
    const selP99 = percentile([...sel.slice(20)].sort((x, y) => x - y), 99);
    const baseP99 = percentile([...base.slice(20)].sort((x, y) => x - y), 99);

    // Ticks vs a bare SELECT/UPDATE loop over other due rows, alternating.
    const tick: number[] = [];
    const bare: number[] = [];
    let claimed = 0;
    for (let round = 0; round < 5; round++) {
      let t0 = performance.now();
      const r = await runDueSteps(env, deps, { limit: BATCH });
      tick.push(performance.now() - t0);
      claimed += r.outcomes.filter((o) => o === 'task').length;
      const ids = (await dueEnrollments(t.env.db, now, BATCH)).map((x) => x.id);
      t0 = performance.now();
      for (const id of ids) {
        await t.env.db.transaction().execute(async (trx) => {
          const e = await trx.selectFrom('sequence_enrollments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
          await trx.updateTable('sequence_enrollments').set({ step_index: Number(e.step_index) + 1, next_due_at: now + 30 * DAY, updated_at: now }).where('id', '=', id).where('step_index', '=', e.step_index).execute();
        });
      }
      bare.push(performance.now() - t0);
    }
    if (claimed !== 5 * BATCH) throw new Error(`the ticks ran ${claimed} steps of ${5 * BATCH}`);
    const tickMs = median(tick);
    const bareMs = median(bare);
    // Nothing due any more: an empty tick among the same enrollments.
    const empty: number[] = [];
    for (let i = 0; i < 30; i++) {
      const t0 = performance.now();
      const r = await runDueSteps(env, deps, { limit: BATCH });
      empty.push(performance.now() - t0);
      if (r.outcomes.length) throw new Error('an empty tick ran steps');
    }
    const emptyMs = median(empty);

    // Ingest overhead of the reply hook: 10,000 live enrollments in a second account.
    const t2 = await setup(t);
    await fill(t, t2, now, 10_000, 0, 'i');
    const conn = await t.database.db.selectFrom('connections').selectAll().where('id', '=', t2.conn.id).executeTakeFirstOrThrow();
    const hook = sequencesFeature().messageStored;
    const without = { ...ingestor, env: { ...t.env, reactions: { ...t.env.reactions, messageStored: t.env.reactions.messageStored.filter((h) => h !== hook) } } };
    if (without.env.reactions.messageStored.length !== t.env.reactions.messageStored.length - 1) throw new Error('the sequences hook is not wired');
    let n = 0;
    const batch = () =>
      Array.from({ length: 100 }, () => {
        n += 1;
        const raw = [`From: Person ${n} <person${n}@company${n % 700}.bench>`, `To: bench-seq@bench.test`, `Subject: Question ${n}`, `Message-ID: <bench-${n}-${now}@company.bench>`, `Date: ${new Date(now).toUTCString()}`, 'MIME-Version: 1.0', 'Content-Type: text/plain; charset=utf-8', '', `Hello, about order ${n}: can you call me back?`, ''].join('\r\n');
        return { raw: Buffer.from(raw), source: 'imap' as const, direction: 'inbound' as const, receivedAt: now };
      });
    const withHook: number[] = [];
    const noHook: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const [ing, out] of round % 2 ? ([[ingestor, withHook], [without, noHook]] as const) : ([[without, noHook], [ingestor, withHook]] as const)) {
        const items = batch();
        const t0 = performance.now();
        await ingestBatch(ing, conn, items);
        if (round >= 2) out.push((performance.now() - t0) / items.length);
      }
    }
    const withMs = median(withHook);
    const noMs = median(noHook);
    return [
      {
        name: `sequences on ${kind}: due-step selection, p99 ms per batch of ${BATCH} among ${ENROLLMENTS.toLocaleString('en')} live enrollments (${DUE.toLocaleString('en')} due; 100 runs)`,
        figure: round2(selP99),
        baseline: round2(baseP99),
        baselineName: `${BATCH} known rows by primary key, p99 ms`,
        ratio: round2(selP99 / baseP99),
        goal: 'p99 < 20 ms',
        ok: selP99 < 20,
      },
      {
        name: `sequences on ${kind}: scheduler tick of ${BATCH} due task steps among ${ENROLLMENTS.toLocaleString('en')} enrollments, ms (median of 5; ${Math.round((BATCH / tickMs) * 1000)} steps/s)`,
        figure: round2(tickMs),
        baseline: round2(bareMs),
        baselineName: `bare SELECT + UPDATE of ${BATCH} due rows, one transaction each, ms`,
        ratio: round2(tickMs / bareMs),
        goal: 'reported',
        ok: null,
        note: `an empty tick among the same enrollments: ${round2(emptyMs)} ms`,
      },
      {
        name: `sequences on ${kind}: ingest per message with the reply hook, ms (batches of 100 from people not enrolled, 10,000 live enrollments in the account; median of ${ROUNDS - 2} batches)`,
        figure: round2(withMs),
        baseline: round2(noMs),
        baselineName: 'same ingest without the sequences hook, ms',
        ratio: round2(withMs / noMs),
        goal: 'ratio < 1.10',
        ok: withMs / noMs < 1.1,
      },
    ];
  } finally {
    await t.close();
  }
}

export async function benchSequences(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  for (const kind of benchDatabases()) {
    if (kind === 'postgres') {
      const why = await pgUnavailable();
      if (why) {
        rows.push({ name: `sequences on postgres: not run (${why})`, figure: 0, baseline: null, ratio: null, goal: 'runs', ok: null });
        continue;
      }
    }
    rows.push(...(await onDatabase(kind, () => onOne(kind))));
  }
  return rows;
}
