/**
 * The messageStored reaction: a message from an enrolled contact stops (or pauses) their sequence.
 *
 *   a person's reply from any address of the contact     -> unenrolled, replied
 *   a reply from a colleague (same company, when the sequence asks; by company, else by email domain,
 *   never a free-mail domain)                            -> unenrolled, colleague_replied
 *   an out-of-office (RFC 3834 headers, vendor headers, or the words in 7 languages) -> paused; resumed
 *   one business day after the stated return date, or paused with a task when none is stated
 *   a hard bounce of a recipient                         -> unenrolled, bounced; the address is not enrolled again
 *
 * Runs inside the ingest transaction, for every stored message: a few indexed reads, nothing when the
 * sender is no enrolled contact.
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { StoredMessage } from '../../ingest/index.js';
import { addressKey } from '../../connections/index.js';
import { appendTimelineEvent } from '../../crm/index.js';
import { classifyReply } from '../domain/replies.js';
import { parseReturnDate } from '../domain/out-of-office.js';
import { isFreemailDomain } from '../domain/render.js';
import { localDate, resumeAfterReturn } from '../domain/schedule.js';
import { addHistory, liveEnrollmentsOf, transition } from '../lifecycle.js';
import type { SequenceEnrollmentsTable } from '../tables.js';
import { parseDefinition } from '../views.js';
import { calendarOf } from './runDueSteps.js';

const keyOf = (address: string | null | undefined) => {
  if (!address) return null;
  const r = addressKey(address);
  return r.ok ? r.key : null;
};

async function contactsWithEmail(trx: Executor, accountId: string, keys: readonly string[]): Promise<string[]> {
  if (!keys.length) return [];
  const rows = await trx.selectFrom('contact_emails').select('contact_id').where('account_id', '=', accountId).where('email_key', 'in', [...keys]).execute();
  return [...new Set(rows.map((r) => r.contact_id))];
}

/**
 * On the contact's timeline, with personal email's reference (refType `email`, the Message-ID), so a
 * message personal email logs too appears once.
 */
async function onTimeline(trx: Executor, stored: StoredMessage, contactId: string, kind: 'email_sent' | 'email_received' | 'auto_reply_received', extra: Record<string, unknown>): Promise<void> {
  const m = stored.message;
  await appendTimelineEvent(trx, {
    accountId: m.account_id,
    contactId,
    kind,
    occurredAt: Number(m.sent_at ?? m.received_at),
    actorUserId: kind === 'email_sent' ? stored.connection.user_id : null,
    refType: 'email',
    refId: (m.message_id ?? m.id).slice(0, 500),
    data: { subject: m.subject, snippet: m.snippet, from: m.from_address, direction: m.direction, messageId: m.id, conversationId: stored.conversation.id, ...extra },
  });
}

export async function stopSequencesOnReply(trx: Executor, stored: readonly StoredMessage[], env: CommandEnv): Promise<void> {
  // Most batches: an account with no live enrollment pays one index probe for the whole batch (ingest
  // never creates enrollments, so the answer holds for the batch).
  const live = new Map<string, boolean>();
  for (const s of stored) {
    const accountId = s.message.account_id;
    if (s.message.direction !== 'inbound' || live.has(accountId)) continue;
    const any = await trx.selectFrom('sequence_enrollments').select('id').where('account_id', '=', accountId).where('active_contact_id', 'is not', null).limit(1).executeTakeFirst();
    live.set(accountId, Boolean(any));
  }
  for (const s of stored) await stopOnOne(trx, s, env, live.get(s.message.account_id) ?? false);
}

async function stopOnOne(trx: Executor, stored: StoredMessage, env: CommandEnv, anyLive: boolean): Promise<void> {
  const m = stored.message;
  if (m.direction === 'outbound' && stored.item.source === 'outbox' && stored.item.outboxId) {
    // A sequence email went out: on the contact's timeline.
    const run = await trx
      .selectFrom('sequence_steps_run')
      .innerJoin('sequence_enrollments as e', 'e.id', 'sequence_steps_run.enrollment_id')
      .select(['e.contact_id', 'e.sequence_id', 'e.id', 'sequence_steps_run.step_index'])
      .where('sequence_steps_run.outbox_id', '=', stored.item.outboxId)
      .executeTakeFirst();
    if (run) await onTimeline(trx, stored, run.contact_id, 'email_sent', { source: 'sequence', sequenceId: run.sequence_id, enrollmentId: run.id, stepIndex: Number(run.step_index) });
    return;
  }
  if (m.direction !== 'inbound') return;
  const accountId = m.account_id;
  if (!anyLive) return;
  const meaning = classifyReply({
    kind: stored.classification.kind,
    reasons: stored.classification.reasons,
    bounce: stored.classification.bounce,
    subject: stored.parsed.subject ?? '',
    text: stored.parsed.text ?? '',
  });
  if (meaning === 'ignore') return;
  const now = env.now();

  if (meaning === 'bounce') {
    const keys = (stored.classification.bounce?.recipients ?? []).flatMap((r) => [keyOf(r.address), keyOf(r.finalAddress)]).filter((k): k is string => !!k);
    if (!keys.length) return;
    const live = await trx.selectFrom('sequence_enrollments').selectAll().where('account_id', '=', accountId).where('contact_email', 'in', keys).where('active_contact_id', 'is not', null).execute();
    for (const e of live) {
      await trx.insertInto('sequence_suppressions').values({ account_id: accountId, email_key: e.contact_email, reason: 'bounced', enrollment_id: e.id, at: now }).onConflict((oc) => oc.columns(['account_id', 'email_key']).doNothing()).execute();
      await transition(trx, e, { type: 'stop', reason: 'bounced' }, now, { data: { messageId: m.id, status: stored.classification.bounce?.recipients[0]?.status ?? null } });
    }
    return;
  }

  const from = keyOf(m.from_address);
  if (!from) return;
  const contactIds = await contactsWithEmail(trx, accountId, [from]);
  const own = await liveEnrollmentsOf(trx, accountId, contactIds);
  for (const e of own) {
    await onTimeline(trx, stored, e.contact_id, meaning === 'reply' ? 'email_received' : 'auto_reply_received', { source: 'sequence', sequenceId: e.sequence_id, enrollmentId: e.id });
    if (meaning === 'reply') {
      await transition(trx, e, { type: 'stop', reason: 'replied' }, now, { data: { messageId: m.id, from } });
    } else {
      await pauseForAbsence(trx, e, stored, now);
    }
  }
  if (meaning !== 'reply') return;

  // Colleagues at the same company, for sequences that ask for it.
  const domain = from.slice(from.lastIndexOf('@') + 1);
  if (!domain || isFreemailDomain(domain)) return;
  const companies = (await trx.selectFrom('company_domains').select('company_id').where('account_id', '=', accountId).where('domain', '=', domain).execute()).map((r) => r.company_id);
  const colleagues: SequenceEnrollmentsTable[] = [];
  const live = (q: ReturnType<typeof base>) => q.where('active_contact_id', 'is not', null).execute();
  const base = () => trx.selectFrom('sequence_enrollments').selectAll().where('account_id', '=', accountId);
  if (companies.length) colleagues.push(...(await live(base().where('company_id', 'in', companies))));
  colleagues.push(...(await live(base().where('email_domain', '=', domain))));
  const seen = new Set(own.map((e) => e.id));
  for (const e of colleagues) {
    if (seen.has(e.id)) continue;
    seen.add(e.id);
    if (!parseDefinition(e.definition).settings.unenrollOnCompanyReply) continue;
    await transition(trx, e, { type: 'stop', reason: 'colleague_replied' }, now, { data: { messageId: m.id, from } });
  }
}

/** An out-of-office pauses; with a stated return date the scheduler resumes one business day after it. */
async function pauseForAbsence(trx: Executor, e: SequenceEnrollmentsTable, stored: StoredMessage, now: number): Promise<void> {
  const def = parseDefinition(e.definition);
  const cal = calendarOf(def, e.time_zone);
  const received = Number(stored.message.received_at) || now;
  const returnDate = parseReturnDate(stored.parsed.subject ?? '', stored.parsed.text ?? '', localDate(received, e.time_zone));
  if (returnDate) {
    const resumeAt = Math.max(resumeAfterReturn(cal, { enrolledAt: Number(e.enrolled_at), returnDate }), Number(e.next_due_at ?? 0));
    await transition(trx, e, { type: 'pause', reason: 'out_of_office' }, now, { nextDueAt: resumeAt, data: { messageId: stored.message.id, returnDate, resumesAt: new Date(resumeAt).toISOString() } });
  } else if (await transition(trx, e, { type: 'pause', reason: 'out_of_office' }, now, { nextDueAt: null, data: { messageId: stored.message.id, returnDate: null } })) {
    await addHistory(trx, e, 'task_created', 'out_of_office', { task: 'The contact is away and did not say until when: resume the sequence when they are back.' }, now);
  }
}
