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
 * Runs inside the ingest transaction, once per batch of stored messages: the batch's sent sequence emails,
 * senders' enrollments and colleagues' enrollments are each read by one query for the whole batch (one
 * index probe when the account has no live enrollment); only messages that change an enrollment write.
 */
import type { CommandEnv, Executor } from '../../../platform/context.js';
import type { StoredMessage } from '../../ingest/index.js';
import { addressKey } from '../../connections/index.js';
import { appendTimelineEvent } from '../../crm/index.js';
import { classifyReply } from '../domain/replies.js';
import { parseReturnDate } from '../domain/out-of-office.js';
import { isFreemailDomain } from '../domain/render.js';
import { localDate, resumeAfterReturn } from '../domain/schedule.js';
import { addHistory, transition } from '../lifecycle.js';
import type { SequenceEnrollmentsTable } from '../tables.js';
import { parseDefinition } from '../views.js';
import { calendarOf } from './runDueSteps.js';

const keyOf = (address: string | null | undefined) => {
  if (!address) return null;
  const r = addressKey(address);
  return r.ok ? r.key : null;
};

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

/** What a batch needs, read once for the whole batch (a few queries per batch, not per message). */
interface BatchFacts {
  /** Sequence steps by the outbox id of the email that just went out. */
  runs: Map<string, { contact_id: string; sequence_id: string; id: string; step_index: number }>;
  /** Live enrollments of the contacts who wrote, by account and sender address key. */
  bySender: Map<string, SequenceEnrollmentsTable[]>;
  /** Live enrollments at the companies (or email domains) of the people who replied, by account and domain. */
  byDomain: Map<string, SequenceEnrollmentsTable[]>;
  /** Enrollments this batch stopped (a later message of the batch leaves them alone). */
  ended: Set<string>;
}

const byAccount = (accountId: string, key: string) => `${accountId}\0${key}`;

function groupBy<T>(rows: readonly T[], key: (r: T) => string): Map<string, T[]> {
  const m = new Map<string, T[]>();
  for (const r of rows) {
    const k = key(r);
    const list = m.get(k);
    if (list) list.push(r);
    else m.set(k, [r]);
  }
  return m;
}

export async function stopSequencesOnReply(trx: Executor, stored: readonly StoredMessage[], env: CommandEnv): Promise<void> {
  const facts: BatchFacts = { runs: new Map(), bySender: new Map(), byDomain: new Map(), ended: new Set() };

  // Sequence emails that went out: one query for the batch's outbox ids.
  const outboxIds = stored.flatMap((s) => (s.message.direction === 'outbound' && s.item.source === 'outbox' && s.item.outboxId ? [s.item.outboxId] : []));
  if (outboxIds.length) {
    const runs = await trx
      .selectFrom('sequence_steps_run')
      .innerJoin('sequence_enrollments as e', 'e.id', 'sequence_steps_run.enrollment_id')
      .select(['sequence_steps_run.outbox_id', 'e.contact_id', 'e.sequence_id', 'e.id', 'sequence_steps_run.step_index'])
      .where('sequence_steps_run.outbox_id', 'in', [...new Set(outboxIds)])
      .execute();
    for (const r of runs) facts.runs.set(r.outbox_id!, { contact_id: r.contact_id, sequence_id: r.sequence_id, id: r.id, step_index: Number(r.step_index) });
  }

  // Most batches: an account with no live enrollment pays one index probe for the whole batch (ingest
  // never creates enrollments, so the answer holds for the batch).
  const inbound = groupBy(
    stored.filter((s) => s.message.direction === 'inbound'),
    (s) => s.message.account_id,
  );
  const live = new Map<string, boolean>();
  for (const [accountId, messages] of inbound) {
    const any = await trx.selectFrom('sequence_enrollments').select('id').where('account_id', '=', accountId).where('active_contact_id', 'is not', null).limit(1).executeTakeFirst();
    live.set(accountId, Boolean(any));
    if (!any) continue;
    // The senders' live enrollments (any address of the contact), one query.
    const senders = [...new Set(messages.map((s) => keyOf(s.message.from_address)).filter((k): k is string => !!k))];
    if (senders.length) {
      const rows = await trx
        .selectFrom('contact_emails as ce')
        .innerJoin('sequence_enrollments as e', (j) => j.onRef('e.active_contact_id', '=', 'ce.contact_id').onRef('e.account_id', '=', 'ce.account_id'))
        .selectAll('e')
        .select('ce.email_key as sender_key')
        .where('ce.account_id', '=', accountId)
        .where('ce.email_key', 'in', senders)
        .execute();
      const seen = new Set<string>();
      for (const { sender_key, ...e } of rows) {
        if (seen.has(`${sender_key}\0${e.id}`)) continue;
        seen.add(`${sender_key}\0${e.id}`);
        const k = byAccount(accountId, sender_key);
        facts.bySender.set(k, [...(facts.bySender.get(k) ?? []), e]);
      }
    }
    // Colleagues: live enrollments at the repliers' companies or email domains (never free mail), two queries.
    const domains = [...new Set(senders.map((k) => k.slice(k.lastIndexOf('@') + 1)).filter((d) => d && !isFreemailDomain(d)))];
    if (domains.length) {
      const companyDomains = await trx.selectFrom('company_domains').select(['company_id', 'domain']).where('account_id', '=', accountId).where('domain', 'in', domains).execute();
      const companies = [...new Set(companyDomains.map((r) => r.company_id))];
      const rows = await trx
        .selectFrom('sequence_enrollments')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('active_contact_id', 'is not', null)
        .where((eb) => (companies.length ? eb.or([eb('email_domain', 'in', domains), eb('company_id', 'in', companies)]) : eb('email_domain', 'in', domains)))
        .execute();
      for (const d of domains) {
        const ofDomain = new Set(companyDomains.filter((r) => r.domain === d).map((r) => r.company_id));
        facts.byDomain.set(
          byAccount(accountId, d),
          rows.filter((e) => e.email_domain === d || (e.company_id !== null && ofDomain.has(e.company_id))),
        );
      }
    }
  }
  for (const s of stored) await stopOnOne(trx, s, env, live.get(s.message.account_id) ?? false, facts);
}

async function stopOnOne(trx: Executor, stored: StoredMessage, env: CommandEnv, anyLive: boolean, facts: BatchFacts): Promise<void> {
  const m = stored.message;
  if (m.direction === 'outbound' && stored.item.source === 'outbox' && stored.item.outboxId) {
    // A sequence email went out: on the contact's timeline.
    const run = facts.runs.get(stored.item.outboxId);
    if (run) await onTimeline(trx, stored, run.contact_id, 'email_sent', { source: 'sequence', sequenceId: run.sequence_id, enrollmentId: run.id, stepIndex: run.step_index });
    return;
  }
  if (m.direction !== 'inbound') return;
  const accountId = m.account_id;
  if (!anyLive) return;
  // Most mail is from people with no live enrollment, themselves or at their company: nothing to read in
  // it (only a bounce can name an enrolled address it was not sent from).
  if (stored.classification.kind !== 'bounce') {
    const sender = keyOf(m.from_address);
    if (!sender) return;
    const senderDomain = sender.slice(sender.lastIndexOf('@') + 1);
    const anyOwn = (facts.bySender.get(byAccount(accountId, sender))?.length ?? 0) > 0;
    const anyColleague = (facts.byDomain.get(byAccount(accountId, senderDomain))?.length ?? 0) > 0;
    if (!anyOwn && !anyColleague) return;
  }
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
      if (facts.ended.has(e.id)) continue;
      await trx.insertInto('sequence_suppressions').values({ account_id: accountId, email_key: e.contact_email, reason: 'bounced', enrollment_id: e.id, at: now }).onConflict((oc) => oc.columns(['account_id', 'email_key']).doNothing()).execute();
      if (await transition(trx, e, { type: 'stop', reason: 'bounced' }, now, { data: { messageId: m.id, status: stored.classification.bounce?.recipients[0]?.status ?? null } })) facts.ended.add(e.id);
    }
    return;
  }

  const from = keyOf(m.from_address);
  if (!from) return;
  const own = (facts.bySender.get(byAccount(accountId, from)) ?? []).filter((e) => !facts.ended.has(e.id));
  for (const e of own) {
    await onTimeline(trx, stored, e.contact_id, meaning === 'reply' ? 'email_received' : 'auto_reply_received', { source: 'sequence', sequenceId: e.sequence_id, enrollmentId: e.id });
    if (meaning === 'reply') {
      if (await transition(trx, e, { type: 'stop', reason: 'replied' }, now, { data: { messageId: m.id, from } })) facts.ended.add(e.id);
    } else if (await pauseForAbsence(trx, e, stored, now)) {
      e.state = 'paused';
    }
  }
  if (meaning !== 'reply') return;

  // Colleagues at the same company, for sequences that ask for it.
  const domain = from.slice(from.lastIndexOf('@') + 1);
  if (!domain || isFreemailDomain(domain)) return;
  const seen = new Set(own.map((e) => e.id));
  for (const e of facts.byDomain.get(byAccount(accountId, domain)) ?? []) {
    if (seen.has(e.id) || facts.ended.has(e.id)) continue;
    seen.add(e.id);
    if (!parseDefinition(e.definition).settings.unenrollOnCompanyReply) continue;
    if (await transition(trx, e, { type: 'stop', reason: 'colleague_replied' }, now, { data: { messageId: m.id, from } })) facts.ended.add(e.id);
  }
}

/** An out-of-office pauses; with a stated return date the scheduler resumes one business day after it. */
async function pauseForAbsence(trx: Executor, e: SequenceEnrollmentsTable, stored: StoredMessage, now: number): Promise<boolean> {
  const def = parseDefinition(e.definition);
  const cal = calendarOf(def, e.time_zone);
  const received = Number(stored.message.received_at) || now;
  const returnDate = parseReturnDate(stored.parsed.subject ?? '', stored.parsed.text ?? '', localDate(received, e.time_zone));
  if (returnDate) {
    const resumeAt = Math.max(resumeAfterReturn(cal, { enrolledAt: Number(e.enrolled_at), returnDate }), Number(e.next_due_at ?? 0));
    return transition(trx, e, { type: 'pause', reason: 'out_of_office' }, now, { nextDueAt: resumeAt, data: { messageId: stored.message.id, returnDate, resumesAt: new Date(resumeAt).toISOString() } });
  }
  if (!(await transition(trx, e, { type: 'pause', reason: 'out_of_office' }, now, { nextDueAt: null, data: { messageId: stored.message.id, returnDate: null } }))) return false;
  await addHistory(trx, e, 'task_created', 'out_of_office', { task: 'The contact is away and did not say until when: resume the sequence when they are back.' }, now);
  return true;
}
