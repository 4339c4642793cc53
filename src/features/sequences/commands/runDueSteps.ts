/**
 * The scheduler: runs the steps that are due, each exactly once, even with several schedulers at once.
 *
 * A step is claimed by a conditional update of its enrollment (`step_index` and `next_due_at` as read)
 * inside the transaction that also writes the step's ledger row (primary key (enrollment, step)) and,
 * for an email, queues it in the durable outbox: whichever scheduler's update lands second changes no
 * row and does nothing. The outbox then sends it once (the attempt is recorded before SMTP).
 *
 * A durable job (`sequences.tick`) runs it: it goes back to the queue until no enrollment is live, at
 * most a minute apart; enrolling wakes it.
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { ConnectionsTable } from '../../../platform/database/schema.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import { limitsFor } from '../../accounts/index.js';
import { queueEmail } from '../../outbox/index.js';
import { trackingChoice, trackOutgoingEmail } from '../../personal/index.js';
import type { SequenceDefinition } from '../domain/definition.js';
import { fontFromJson, renderStepEmail, tokenValues, type DefaultFont, type TokenValues } from '../domain/render.js';
import { stepDueAt, type Calendar } from '../domain/schedule.js';
import { pickVariant, spreadSeconds } from '../domain/variants.js';
import { addHistory, transition } from '../lifecycle.js';
import type { SequenceEnrollmentsTable } from '../tables.js';
import { parseDefinition } from '../views.js';
import { unsubscribeUrl } from './unsubscribe.js';

export const SCHEDULER_JOB = 'sequences.tick';
/** How often the scheduler looks at most (a step is never later than this after its due time, limits aside). */
export const TICK_MS = 60_000;
export const BATCH = 500;

export interface SendDeps {
  putBlob: (raw: Buffer) => Promise<string>;
  replyTokenSecret: string;
}

/** The outbox id (hence the Message-ID, `<mr.{id}.{mac}@domain>`) of an email step: one per (enrollment, step). */
export function stepOutboxId(enrollmentId: string, stepIndex: number): string {
  return `out_${enrollmentId}_s${stepIndex}`;
}

export async function wakeScheduler(trx: Executor, now: number): Promise<void> {
  await enqueue(trx, now, { queue: 'mail', kind: SCHEDULER_JOB, payload: {}, dedupeKey: SCHEDULER_JOB, maxAttempts: 1000 });
}

export function calendarOf(def: SequenceDefinition, zone: string): Calendar {
  return { zone, windowStart: def.settings.windowStart, windowEnd: def.settings.windowEnd, weekdays: def.settings.weekdays, holidays: new Set(def.settings.holidays) };
}

export interface SenderContext {
  values: TokenValues;
  signature: string | null;
  font: DefaultFont | null;
  userName: string;
}

/** Tokens (contact, company, sender), signature and default font of one sender writing to one contact. */
export async function senderContext(trx: Executor, accountId: string, userId: string, connection: ConnectionsTable, contactId: string): Promise<SenderContext> {
  const user = await trx.selectFrom('users').select(['name']).where('id', '=', userId).executeTakeFirstOrThrow();
  const contact = await trx.selectFrom('contacts').select(['first_name', 'last_name', 'company_id']).where('id', '=', contactId).where('account_id', '=', accountId).executeTakeFirst();
  const email = await trx.selectFrom('contact_emails').select('email').where('contact_id', '=', contactId).where('account_id', '=', accountId).orderBy('is_primary', 'desc').orderBy('email').executeTakeFirst();
  const company = contact?.company_id ? await trx.selectFrom('companies').select(['id', 'name']).where('id', '=', contact.company_id).where('account_id', '=', accountId).executeTakeFirst() : undefined;
  const domain = company ? ((await trx.selectFrom('company_domains').select('domain').where('company_id', '=', company.id).orderBy('domain').executeTakeFirst())?.domain ?? null) : null;
  const prefs = await trx.selectFrom('email_preferences').select(['font', 'signature']).where('user_id', '=', userId).executeTakeFirst();
  let font: DefaultFont | null = null;
  try {
    font = prefs?.font ? fontFromJson(JSON.parse(prefs.font)) : null;
  } catch {
    font = null;
  }
  return {
    values: tokenValues({
      contact: { firstName: contact?.first_name ?? '', lastName: contact?.last_name ?? '', email: email?.email ?? null },
      company: company ? { name: company.name, domain } : null,
      sender: { name: user.name, email: connection.address },
    }),
    signature: prefs?.signature ?? connection.signature,
    font,
    userName: user.name,
  };
}

interface Thread {
  firstSubject?: string;
  messageIds?: string[];
}

/** Emails counted against the connection's rolling 24 hours: sent, or on their way. When full, when a slot frees. */
async function dailySlotAt(trx: Executor, c: ConnectionsTable, now: number): Promise<number | null> {
  const account = await trx.selectFrom('accounts').select('plan').where('id', '=', c.account_id).executeTakeFirstOrThrow();
  const perDay = Math.min(limitsFor(account.plan).sendsPerDay, c.send_limit_day ?? Infinity);
  const since = now - 24 * 3600_000;
  const r = await trx
    .selectFrom('outbox')
    .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('sent_at').as('oldest')])
    .where('connection_id', '=', c.id)
    .where((eb) => eb.or([eb('sent_at', '>', since), eb('state', 'in', ['queued', 'sending'])]))
    .executeTakeFirstOrThrow();
  if (Number(r.n) < perDay) return null;
  return (r.oldest === null ? now : Number(r.oldest)) + 24 * 3600_000 + 1000;
}

export type StepOutcome = 'queued' | 'task' | 'finished' | 'resumed' | 'waiting' | 'skipped' | 'needs_attention';

/** Runs one due enrollment's next step, in one transaction; 'skipped' when another scheduler got it first. */
export async function runEnrollmentStep(env: CommandEnv, deps: SendDeps, enrollmentId: string): Promise<StepOutcome> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    let e = await trx.selectFrom('sequence_enrollments').selectAll().where('id', '=', enrollmentId).executeTakeFirst();
    if (!e || e.next_due_at === null || Number(e.next_due_at) > now) return 'skipped';
    if (e.state === 'paused') {
      // The stated return date has come: resume, and run the step now (within the window).
      if (!(await transition(trx, e, { type: 'resume' }, now, { data: { why: 'return_date' } }))) return 'skipped';
      e = { ...e, state: 'active' };
    }
    if (e.state !== 'active') return 'skipped';
    const def = parseDefinition(e.definition);
    const index = Number(e.step_index);
    const step = def.steps[index];
    if (!step) return (await transition(trx, e, { type: 'complete' }, now)) ? 'finished' : 'skipped';
    const dueAt = Number(e.next_due_at);
    const connection = await trx.selectFrom('connections').selectAll().where('id', '=', e.connection_id).executeTakeFirstOrThrow();
    if (step.type === 'email') {
      if (connection.disconnected_at !== null) {
        return (await transition(trx, e, { type: 'stop', reason: 'connection_lost' }, now, { data: { address: connection.address } })) ? 'finished' : 'skipped';
      }
      // Shared send limit: the step waits for a free slot, never dropped.
      const slot = await dailySlotAt(trx, connection, now);
      if (slot !== null) {
        const r = await trx.updateTable('sequence_enrollments').set({ next_due_at: slot, updated_at: now }).where('id', '=', e.id).where('step_index', '=', index).where('next_due_at', '=', e.next_due_at).where('state', '=', 'active').executeTakeFirst();
        if (Number(r.numUpdatedRows) === 1) await addHistory(trx, e, 'waiting', 'send_limit', { stepIndex: index, until: new Date(slot).toISOString() }, now);
        return 'waiting';
      }
    }
    // Claim: only the scheduler whose update changes the row runs the step.
    const cal = calendarOf(def, e.time_zone);
    const following = def.steps[index + 1];
    let nextDue: number | null = null;
    if (following) {
      nextDue = stepDueAt(cal, { enrolledAt: Number(e.enrolled_at), previousDueAt: Math.max(dueAt, Math.min(now, dueAt + 24 * 3600_000)), delay: following.delay });
      if (following.delay.value > 0) nextDue += spreadSeconds(e.id) * 1000;
    }
    const claimed = await trx
      .updateTable('sequence_enrollments')
      .set({ step_index: index + 1, next_due_at: nextDue ?? now, last_due_at: dueAt, updated_at: now })
      .where('id', '=', e.id)
      .where('state', '=', 'active')
      .where('step_index', '=', index)
      .where('next_due_at', '=', e.next_due_at)
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1) return 'skipped';
    const after: SequenceEnrollmentsTable = { ...e, step_index: index + 1, next_due_at: nextDue ?? now, last_due_at: dueAt };

    const variant = step.type === 'email' ? pickVariant(e.id, step.id, step.variants.length) : 0;
    let outcome: StepOutcome;
    if (step.type === 'email') {
      const sender = await senderContext(trx, e.account_id, e.user_id, connection, e.contact_id);
      const thread = JSON.parse(e.thread) as Thread;
      const rendered = renderStepEmail({ variant: step.variants[variant]!, firstSubject: thread.firstSubject ?? null, threaded: def.settings.threaded, values: sender.values, signature: sender.signature, font: sender.font });
      if (rendered.problems.length) {
        await trx.insertInto('sequence_steps_run').values({ enrollment_id: e.id, step_index: index, account_id: e.account_id, user_id: e.user_id, step_id: step.id, type: 'manual_email', variant, state: 'open', outbox_id: null, message_id: null, subject: rendered.subject, due_at: dueAt, ran_at: now, done_at: null }).execute();
        await addHistory(trx, e, 'task_created', 'unresolved_tokens', { stepIndex: index, problems: rendered.problems }, now);
        outcome = 'needs_attention';
      } else {
        const ids = thread.messageIds ?? [];
        const threaded = def.settings.threaded && ids.length > 0;
        const unsubscribe = unsubscribeUrl(env, e.id);
        const domain = connection.address.slice(connection.address.lastIndexOf('@') + 1) || env.settings.inboundDomain;
        const outboxId = stepOutboxId(e.id, index);
        // Open and click tracking as in one-to-one email: the sequence's setting, else the sender's default, within the plan.
        const account = await trx.selectFrom('accounts').select('plan').where('id', '=', e.account_id).executeTakeFirstOrThrow();
        const tracking = await trackingChoice(trx, { userId: e.user_id, plan: account.plan, opens: def.settings.trackOpens ?? null, clicks: def.settings.trackClicks ?? null });
        const tracked = await trackOutgoingEmail(trx, env, {
          accountId: e.account_id,
          userId: e.user_id,
          connectionId: connection.id,
          outboxId,
          contactId: e.contact_id,
          companyId: e.company_id,
          subject: rendered.subject,
          html: rendered.html,
          ...tracking,
        });
        const queued = await queueEmail(
          trx,
          { now, putBlob: deps.putBlob, replyTokenSecret: deps.replyTokenSecret, messageIdDomain: domain },
          {
            connection,
            userId: e.user_id,
            email: {
              from: { name: sender.userName, address: connection.address },
              to: [{ address: e.contact_email }],
              subject: rendered.subject,
              html: tracked.html,
              text: rendered.text,
              ...(threaded ? { inReplyTo: ids[ids.length - 1]!, references: ids } : {}),
              headers: { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' },
            },
            meta: { feature: 'sequences', enrollmentId: e.id, stepIndex: index, variant },
            // The same (enrollment, step) is always the same outbox row and Message-ID: the sender finds
            // it in the Sent folder after a crash instead of sending it again.
            outboxId,
          },
        );
        await trx
          .insertInto('sequence_steps_run')
          .values({ enrollment_id: e.id, step_index: index, account_id: e.account_id, user_id: e.user_id, step_id: step.id, type: 'email', variant, state: 'queued', outbox_id: queued.outboxId, message_id: queued.messageId, subject: rendered.subject, due_at: dueAt, ran_at: now, done_at: null })
          .execute();
        const nextThread: Thread = { firstSubject: thread.firstSubject ?? rendered.subject, messageIds: [...ids, queued.messageId].slice(-20) };
        await trx.updateTable('sequence_enrollments').set({ thread: JSON.stringify(nextThread) }).where('id', '=', e.id).execute();
        after.thread = JSON.stringify(nextThread);
        await addHistory(trx, e, 'step_queued', null, { stepIndex: index, variant, outboxId: queued.outboxId, subject: rendered.subject }, now);
        outcome = 'queued';
      }
    } else {
      await trx
        .insertInto('sequence_steps_run')
        .values({ enrollment_id: e.id, step_index: index, account_id: e.account_id, user_id: e.user_id, step_id: step.id, type: step.type, variant: 0, state: 'open', outbox_id: null, message_id: null, subject: step.variants[0]?.subject || step.note.slice(0, 200), due_at: dueAt, ran_at: now, done_at: null })
        .execute();
      await addHistory(trx, e, 'task_created', null, { stepIndex: index, type: step.type }, now);
      outcome = 'task';
    }
    if (!following) await transition(trx, after, { type: 'complete' }, now);
    return outcome;
  });
}

/** The due enrollments (active, or paused until a return date), oldest due first: an index range of (state, next_due_at). */
export async function dueEnrollments(db: Executor, now: number, limit: number): Promise<Array<{ id: string }>> {
  return db.selectFrom('sequence_enrollments').select('id').where('state', 'in', ['active', 'paused']).where('next_due_at', '<=', now).orderBy('next_due_at').limit(limit).execute();
}

/** One scheduler pass: due enrollments (active, or paused until a return date), oldest due first. */
export async function runDueSteps(env: CommandEnv, deps: SendDeps, o: { limit?: number } = {}): Promise<{ outcomes: StepOutcome[]; nextDueAt: number | null; live: boolean }> {
  const now = env.now();
  const due = await dueEnrollments(env.db, now, o.limit ?? BATCH);
  const outcomes: StepOutcome[] = [];
  for (const d of due) outcomes.push(await runEnrollmentStep(env, deps, d.id));
  // The next due time, one state at a time: each is the first entry of the (state, next_due_at) index,
  // where `state IN (...) ORDER BY next_due_at` made PostgreSQL sort every live enrollment (57 ms among
  // 100,000 for an empty tick).
  const firstDue = (state: 'active' | 'paused') =>
    env.db.selectFrom('sequence_enrollments').select('next_due_at').where('state', '=', state).where('next_due_at', 'is not', null).orderBy('next_due_at').limit(1).executeTakeFirst();
  const dueTimes = [await firstDue('active'), await firstDue('paused')].flatMap((r) => (r ? [Number(r.next_due_at)] : []));
  const nextDueAt = dueTimes.length ? Math.min(...dueTimes) : null;
  const live = nextDueAt !== null || (await env.db.selectFrom('sequence_enrollments').select('id').where('state', '=', 'paused').limit(1).executeTakeFirst()) !== undefined;
  if (outcomes.some((x) => x === 'queued')) env.onJobsQueued?.();
  return { outcomes, nextDueAt, live };
}
