/**
 * Service-level targets of an inbox, the imperative shell around ./domain/sla.ts:
 *
 * - `refreshConversationSla` recomputes where conversations stand (in the transaction of whatever changed
 *   them: a stored message, a status change, a move, a merge, the snooze ending, the targets changing) and
 *   writes it to `conversation_sla`. The facts are read back from what the inbox already keeps: the
 *   messages (customer mail, our sent replies) and the status activity.
 * - `checkSla` (the `inbox.sla_check` job, every minute while anything is due) tells the assignee once
 *   when a target will breach soon and once when it breached, per target and cycle. The notice is written
 *   in the same transaction as a conditional update of its `*_notified_at` column, so two workers running
 *   the check at once tell the assignee once.
 */
import { addBusinessMinutes } from './domain/business-time.js';
import { slaHours, slaOfInboxSettings, slaState, type SlaFact, type SlaSettings, type SlaState } from './domain/sla.js';
import { enqueue } from '../../platform/jobs/queue.js';
import { RunAgain } from '../../platform/jobs/worker.js';
import { recordEvent } from '../../platform/events.js';
import { notifyUsers } from '../notifications/index.js';
import type { CommandEnv, Executor } from '../../platform/context.js';
import type { ConversationSlaTable } from '../../platform/database/schema.js';
import { isoTime } from '../../platform/http/iso-time.js';

export const SLA_CHECK_JOB = 'inbox.sla_check';
/** How often the check runs while a target is due somewhere. */
export const SLA_CHECK_EVERY_MS = 60_000;

type SlaRow = ConversationSlaTable;
const num = (v: number | string | null | undefined): number | null => (v === null || v === undefined ? null : Number(v));

/** What the conversation's history says, as facts for the domain. */
async function factsOf(db: Executor, conversation: { id: string; status: string; updated_at: number }): Promise<SlaFact[]> {
  const facts: SlaFact[] = [];
  const messages = await db.selectFrom('messages').select(['direction', 'classification', 'received_at']).where('conversation_id', '=', conversation.id).execute();
  for (const m of messages) {
    if (m.direction === 'inbound' && m.classification === 'normal') facts.push({ kind: 'customer', at: Number(m.received_at) });
    else if (m.direction === 'outbound') facts.push({ kind: 'reply', at: Number(m.received_at) });
  }
  const activity = await db.selectFrom('conversation_activity').select(['kind', 'data', 'created_at']).where('conversation_id', '=', conversation.id).where('kind', 'in', ['status', 'spam']).orderBy('created_at').orderBy('id').execute();
  for (const a of activity) {
    let data: { to?: unknown; snoozedUntil?: unknown; reason?: unknown } = {};
    try {
      data = JSON.parse(a.data) as typeof data;
    } catch {
      continue;
    }
    const at = Number(a.created_at);
    if (a.kind === 'spam') facts.push({ kind: 'status', at, to: 'spam' });
    else if (typeof data.to === 'string') facts.push({ kind: 'status', at, to: data.to, snoozedUntil: typeof data.snoozedUntil === 'number' ? data.snoozedUntil : null, ...(typeof data.reason === 'string' ? { reason: data.reason } : {}) });
  }
  // Spam and closed without an activity record (an import): the clocks stop at the last change.
  if ((conversation.status === 'spam' || conversation.status === 'closed') && !activity.some((a) => a.kind === 'spam' || a.data.includes(`"to":"${conversation.status}"`))) {
    facts.push({ kind: 'status', at: Number(conversation.updated_at), to: conversation.status });
  }
  return facts;
}

/** The row a state is stored as. */
function rowOf(state: SlaState, base: { conversationId: string; accountId: string; inboxId: string; now: number }, previous: SlaRow | undefined) {
  const sameCycle = previous !== undefined && num(previous.cycle_started_at) === state.cycleStartedAt;
  const keep = (k: 'first_response_soon_notified_at' | 'first_response_breach_notified_at' | 'resolution_soon_notified_at' | 'resolution_breach_notified_at') => (sameCycle ? num(previous![k]) : null);
  return {
    conversation_id: base.conversationId,
    account_id: base.accountId,
    inbox_id: base.inboxId,
    cycle_started_at: state.cycleStartedAt,
    first_response_due_at: state.firstResponse?.dueAt ?? null,
    first_response_met_at: state.firstResponse?.metAt ?? null,
    first_response_breached: state.firstResponse ? (state.firstResponse.breached ? 1 : 0) : null,
    resolution_due_at: state.resolution?.dueAt ?? null,
    resolution_met_at: state.resolution?.metAt ?? null,
    resolution_breached: state.resolution ? (state.resolution.breached ? 1 : 0) : null,
    paused: state.paused,
    next_due_at: state.nextDueAt,
    first_response_soon_notified_at: keep('first_response_soon_notified_at'),
    first_response_breach_notified_at: keep('first_response_breach_notified_at'),
    resolution_soon_notified_at: keep('resolution_soon_notified_at'),
    resolution_breach_notified_at: keep('resolution_breach_notified_at'),
    updated_at: base.now,
  };
}

/**
 * Recomputes where the given conversations stand with their inbox's targets, in the transaction of the
 * change. One query for conversations of inboxes without targets (most ingest batches); a conversation
 * that left an inbox with targets (moved, or the targets removed) loses its row.
 */
export async function refreshConversationSla(trx: Executor, conversationIds: readonly string[], now: number): Promise<void> {
  const ids = [...new Set(conversationIds)];
  const parsed = new Map<string, SlaSettings | null>();
  let anyDue = false;
  for (let at = 0; at < ids.length; at += 200) {
    const chunk = ids.slice(at, at + 200);
    const conversations = await trx
      .selectFrom('conversations')
      .leftJoin('inboxes', (j) => j.onRef('inboxes.id', '=', 'conversations.inbox_id').on('inboxes.deleted_at', 'is', null))
      .select(['conversations.id', 'conversations.account_id', 'conversations.inbox_id', 'conversations.status', 'conversations.kind', 'conversations.deleted_at', 'conversations.updated_at', 'inboxes.settings'])
      .where('conversations.id', 'in', chunk)
      .execute();
    const settingsOf = (c: (typeof conversations)[number]) => {
      if (!c.inbox_id || c.kind !== 'team' || c.deleted_at !== null || !c.settings) return null;
      if (!parsed.has(c.inbox_id)) parsed.set(c.inbox_id, slaOfInboxSettings(c.settings));
      return parsed.get(c.inbox_id) ?? null;
    };
    const withSla = conversations.filter((c) => settingsOf(c) !== null);
    const existing = new Map((await trx.selectFrom('conversation_sla').selectAll().where('conversation_id', 'in', chunk).execute()).map((r) => [r.conversation_id, r]));
    const gone = chunk.filter((id) => existing.has(id) && !withSla.some((c) => c.id === id));
    for (const c of withSla) {
      const settings = settingsOf(c)!;
      const state = slaState(slaHours(settings), settings, await factsOf(trx, { id: c.id, status: c.status, updated_at: Number(c.updated_at) }), now);
      const row = rowOf(state, { conversationId: c.id, accountId: c.account_id, inboxId: c.inbox_id!, now }, existing.get(c.id));
      const { conversation_id: _id, ...set } = row;
      await trx.insertInto('conversation_sla').values(row).onConflict((oc) => oc.column('conversation_id').doUpdateSet(set)).execute();
      if (state.nextDueAt !== null) anyDue = true;
    }
    if (gone.length) await trx.deleteFrom('conversation_sla').where('conversation_id', 'in', gone).execute();
  }
  if (anyDue) await enqueue(trx, now, { kind: SLA_CHECK_JOB, payload: {}, runAt: now, dedupeKey: 'inbox-sla-check' });
}

/** After an inbox's targets changed: its open and snoozed conversations are recomputed; without targets, no conversation of it keeps a record. */
export async function refreshInboxSla(trx: Executor, inboxId: string, now: number, hasTargets: boolean): Promise<void> {
  if (!hasTargets) {
    await trx.deleteFrom('conversation_sla').where('inbox_id', '=', inboxId).execute();
    return;
  }
  const rows = await trx.selectFrom('conversations').select('id').where('inbox_id', '=', inboxId).where('deleted_at', 'is', null).where('status', 'in', ['open', 'snoozed']).execute();
  await refreshConversationSla(trx, rows.map((r) => r.id), now);
}

/** The instant up to which a due time counts as "breaching soon" in an inbox (its threshold of business time from now). */
export function soonBound(settings: SlaSettings, now: number): number {
  return addBusinessMinutes(slaHours(settings), now, settings.soonMinutes) ?? Number.MAX_SAFE_INTEGER;
}

/** The API shape of a conversation's targets (null: its inbox has none). */
export function slaView(row: Pick<SlaRow, 'first_response_due_at' | 'first_response_met_at' | 'first_response_breached' | 'resolution_due_at' | 'resolution_met_at' | 'resolution_breached' | 'paused' | 'next_due_at' | 'cycle_started_at'> | null | undefined, now: number, bound: number | null) {
  if (!row || num(row.cycle_started_at) === null) return null;
  const iso = (v: number | string | null) => (v === null ? null : isoTime(Number(v)));
  const target = (due: number | string | null, met: number | string | null, breached: number | string | null) =>
    breached === null ? null : { dueAt: iso(due), metAt: iso(met), breached: Boolean(Number(breached)) || (met === null && due !== null && Number(due) <= now) };
  const next = num(row.next_due_at);
  return {
    firstResponse: target(row.first_response_due_at, row.first_response_met_at, row.first_response_breached),
    resolution: target(row.resolution_due_at, row.resolution_met_at, row.resolution_breached),
    paused: (row.paused as 'snoozed' | 'waiting_on_customer' | null) ?? null,
    nextDueAt: iso(next),
    state: next === null ? (row.paused ? 'paused' : 'none') : next <= now ? 'breached' : bound !== null && next <= bound ? 'breaching_soon' : 'on_track',
  } as const;
}
export type SlaView = ReturnType<typeof slaView>;

type Target = 'first_response' | 'resolution';
const TARGET_WORDS: Record<Target, string> = { first_response: 'first response', resolution: 'resolution' };

/**
 * One pass of the check: for each inbox with targets, the open, assigned conversations whose target is due
 * within the inbox's "soon" threshold or past due, and not yet told. Returns what it sent and whether
 * anything is still due somewhere (the job comes back in a minute then).
 */
export async function checkSla(env: CommandEnv, now: number): Promise<{ soon: number; breached: number; due: number }> {
  let soon = 0;
  let breached = 0;
  const inboxes = await inboxesWithRunningTargets(env.db).execute();
  for (const inbox of inboxes) {
    const settings = slaOfInboxSettings(inbox.settings);
    if (!settings) continue;
    const bound = soonBound(settings, now);
    const rows = await env.db
      .selectFrom('conversation_sla')
      .innerJoin('conversations', 'conversations.id', 'conversation_sla.conversation_id')
      .selectAll('conversation_sla')
      .select(['conversations.assignee_id', 'conversations.subject', 'conversations.status'])
      .where('conversation_sla.inbox_id', '=', inbox.id)
      .where('conversation_sla.next_due_at', '<=', bound)
      .where('conversations.status', '=', 'open')
      .where('conversations.deleted_at', 'is', null)
      .where('conversations.assignee_id', 'is not', null)
      .execute();
    for (const r of rows) {
      for (const target of ['first_response', 'resolution'] as const) {
        const due = num(r[`${target}_due_at`]);
        if (due === null || num(r[`${target}_met_at`]) !== null || due > bound) continue;
        const kind = due <= now ? 'breach' : 'soon';
        const column = `${target}_${kind}_notified_at` as const;
        if (num(r[column]) !== null) continue;
        const told = await env.db.transaction().execute(async (trx) => {
          const u = await trx
            .updateTable('conversation_sla')
            .set({ [column]: now })
            .where('conversation_id', '=', r.conversation_id)
            .where(column, 'is', null)
            .where('cycle_started_at', '=', r.cycle_started_at)
            .where(`${target}_due_at`, '=', due)
            .where(`${target}_met_at`, 'is', null)
            .executeTakeFirst();
          if (Number(u.numUpdatedRows) !== 1) return false; // another worker told them, or it changed meanwhile
          const subject = r.subject || '(no subject)';
          const when = isoTime(due);
          await notifyUsers(trx, {
            accountId: r.account_id,
            userIds: [r.assignee_id!],
            kind: kind === 'breach' ? 'conversation.sla_breached' : 'conversation.sla_breaching_soon',
            message: kind === 'breach' ? `The ${TARGET_WORDS[target]} target of "${subject}" was due at ${when} and is breached.` : `The ${TARGET_WORDS[target]} target of "${subject}" is due at ${when}: it will breach soon.`,
            data: { conversationId: r.conversation_id, inboxId: r.inbox_id, target, dueAt: when },
            at: now,
          });
          if (kind === 'breach') {
            await recordEvent(trx, { accountId: r.account_id, type: 'conversation.sla_breached', subject: { type: 'conversation', id: r.conversation_id }, data: { conversationId: r.conversation_id, inboxId: r.inbox_id, target, dueAt: due, assigneeId: r.assignee_id }, at: now });
          }
          return true;
        });
        if (told) kind === 'breach' ? breached++ : soon++;
      }
    }
  }
  const pending = await stillDueCount(env.db).executeTakeFirstOrThrow();
  return { soon, breached, due: Number(pending.n) };
}

// The check's two reads of every running target read the conversations with one (`next_due_at` not null,
// migration 041's partial index), not every conversation that ever had a target. Exported for their plan test.

/** The live inboxes with a target running somewhere. */
export function inboxesWithRunningTargets(db: Executor) {
  return db.selectFrom('conversation_sla').innerJoin('inboxes', 'inboxes.id', 'conversation_sla.inbox_id').select(['inboxes.id', 'inboxes.settings']).distinct().where('conversation_sla.next_due_at', 'is not', null).where('inboxes.deleted_at', 'is', null);
}

/** How many targets are due and not yet told of their breach (the job comes back while there are any). */
export function stillDueCount(db: Executor) {
  return db
    .selectFrom('conversation_sla')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('next_due_at', 'is not', null)
    .where((eb) =>
      eb.or([
        eb.and([eb('first_response_due_at', 'is not', null), eb('first_response_met_at', 'is', null), eb('first_response_breach_notified_at', 'is', null)]),
        eb.and([eb('resolution_due_at', 'is not', null), eb('resolution_met_at', 'is', null), eb('resolution_breach_notified_at', 'is', null)]),
      ]),
    );
}

/** The job: check now; come back in a minute while a target is due somewhere and not yet told. */
export async function slaCheckJob(_payload: unknown, ctx: { env: CommandEnv }): Promise<void> {
  const r = await checkSla(ctx.env, ctx.env.now());
  if (r.due > 0) throw new RunAgain(SLA_CHECK_EVERY_MS);
}
