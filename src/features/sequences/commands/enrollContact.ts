import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { ConnectionsTable } from '../../../platform/database/schema.js';
import { emailsOf, loadContact } from '../../crm/index.js';

import { describeTokenProblems, isFreemailDomain, neverLogEntries, onNeverLogList, renderStepEmail } from '../domain/render.js';
import { isValidZone, stepDueAt, zoneOfWorkingHours } from '../domain/schedule.js';
import { sequencesPolicies } from '../policies.js';
import { enrollmentViews, loadSequence } from '../queries.js';
import { parseDefinition, type EnrollmentView } from '../views.js';
import { addHistory, recordEnrollmentEvent } from '../lifecycle.js';
import { calendarOf, senderContext, wakeScheduler } from './runDueSteps.js';

export interface EnrollInput {
  contactId: string;
  /** One of your own personal connections; default: your default "from". */
  connectionId?: string;
  /** A time zone (IANA) for this enrollment; default: the contact's (its timeZone property), else yours (working hours), else the sequence's. */
  timeZone?: string;
}

/** The sender's own personal connection. A team address is refused: sequences are personal email. */
export async function senderConnection(trx: Executor, actor: Actor, connectionId: string | undefined): Promise<ConnectionsTable> {
  if (connectionId) {
    const c = await trx.selectFrom('connections').selectAll().where('id', '=', connectionId).where('account_id', '=', actor.accountId).where('disconnected_at', 'is', null).executeTakeFirst();
    if (c?.type === 'team') {
      throw new AppError('team_connection_not_allowed', 409, `${c.address} is a team address. Sequences send from your own mailbox only (personal email), so replies reach you and stop the sequence.`, { field: 'connectionId' });
    }
    if (!c || c.user_id !== actor.user.id) throw notFound('Connection');
    return c;
  }
  const own = await trx
    .selectFrom('connections')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('user_id', '=', actor.user.id)
    .where('type', '=', 'personal')
    .where('disconnected_at', 'is', null)
    .orderBy('is_default_from', 'desc')
    .orderBy('address')
    .execute();
  if (!own[0]) throw new AppError('no_personal_connection', 409, 'Connect your mailbox first (Settings → Email → Connect personal email): sequences send through your own mailbox.');
  return own[0];
}

/**
 * Enrolls a contact in a sequence, sent from the actor's own personal connection. Refused when the contact
 * is in another sequence (one at a time), bounced, unsubscribed or on a never-log list, or when an email
 * of the sequence cannot be personalised for them. The sequence's current version is frozen into the
 * enrollment. One transaction; audited; the scheduler is woken.
 */
export async function enrollContact(env: CommandEnv, actor: Actor, sequenceId: string, input: EnrollInput): Promise<EnrollmentView> {
  authorize(actor, sequencesPolicies.use);
  if (input.timeZone !== undefined && !isValidZone(input.timeZone)) throw invalidRequest(`${input.timeZone} is not a time zone. Use an IANA name such as Europe/Paris.`, { field: 'timeZone' });
  const now = env.now();
  const result = await env.db.transaction().execute(async (trx) => {
    const seq = await loadSequence(trx, actor.accountId, sequenceId);
    if (seq.archived_at !== null) throw new AppError('sequence_archived', 409, `${seq.name} is archived and takes no new enrollments.`);
    const connection = await senderConnection(trx, actor, input.connectionId);
    const contact = await loadContact(trx, actor.accountId, input.contactId);
    const emails = (await emailsOf(trx, actor.accountId, [contact.id])).get(contact.id) ?? [];
    const primary = emails[0];
    if (!primary) throw new AppError('contact_not_enrollable', 409, `${contact.first_name || 'This contact'} has no email address. Add one first.`, { reason: 'no_email' });
    const bounced = emails.find((e) => e.bounced_at !== null);
    if (bounced) throw new AppError('contact_not_enrollable', 409, `Mail to ${bounced.email} bounced${bounced.bounce_reason ? ` (${bounced.bounce_reason})` : ''}, so this contact cannot be enrolled.`, { reason: 'bounced', email: bounced.email });
    const suppressed = await trx
      .selectFrom('sequence_suppressions')
      .selectAll()
      .where('account_id', '=', actor.accountId)
      .where(
        'email_key',
        'in',
        emails.map((e) => e.email_key),
      )
      .executeTakeFirst();
    if (suppressed) {
      throw new AppError('contact_not_enrollable', 409, `${suppressed.email_key} ${suppressed.reason === 'unsubscribed' ? 'unsubscribed from sequence email' : 'bounced'}, so this contact cannot be enrolled again.`, { reason: suppressed.reason, email: suppressed.email_key });
    }
    const prefs = await trx.selectFrom('email_preferences').select('never_log').where('user_id', '=', actor.user.id).executeTakeFirst();
    const account = await trx.selectFrom('account_email_settings').select('never_log').where('account_id', '=', actor.accountId).executeTakeFirst();
    const neverLog = [...neverLogEntries(safeJson(prefs?.never_log)), ...neverLogEntries(safeJson(account?.never_log))];
    if (onNeverLogList(primary.email, neverLog)) throw new AppError('contact_not_enrollable', 409, `${primary.email} is on a never-log list, so it cannot be enrolled in a sequence.`, { reason: 'never_log', email: primary.email });

    const live = await trx.selectFrom('sequence_enrollments').select(['id', 'sequence_id']).where('account_id', '=', actor.accountId).where('active_contact_id', '=', contact.id).executeTakeFirst();
    if (live) {
      const other = await trx.selectFrom('sequences').select('name').where('id', '=', live.sequence_id).executeTakeFirst();
      throw new AppError('already_enrolled', 409, `This contact is already in the sequence "${other?.name ?? live.sequence_id}". A contact is in one sequence at a time: unenroll them there first.`, { enrollmentId: live.id, sequenceId: live.sequence_id });
    }

    const def = parseDefinition(seq.definition);
    // Every email of the sequence must be personalisable for this contact now, not fail at step 4.
    const sender = await senderContext(trx, actor.accountId, actor.user.id, connection, contact.id);
    let firstSubject: string | null = null;
    for (const step of def.steps) {
      if (step.type !== 'email') continue;
      for (const v of step.variants) {
        const r = renderStepEmail({ variant: v, firstSubject, threaded: def.settings.threaded, values: sender.values, signature: sender.signature, font: sender.font });
        if (r.problems.length) throw new AppError('unresolved_tokens', 422, describeTokenProblems(r.problems), { problems: r.problems });
      }
      firstSubject ??= 'x';
    }

    // Steps keep the contact's local time of day: the contact's zone when known, else the owner's (the
    // enrolling user's working hours), else the sequence's. Frozen into the enrollment with its definition.
    const contactZone = contact.time_zone && isValidZone(contact.time_zone) ? contact.time_zone : null;
    const zone = input.timeZone ?? contactZone ?? zoneOfWorkingHours(actor.user.working_hours) ?? def.settings.timeZone;
    const firstDue = stepDueAt(calendarOf(def, zone), { enrolledAt: now, previousDueAt: now, delay: def.steps[0]!.delay });
    const domain = primary.email_key.slice(primary.email_key.lastIndexOf('@') + 1);
    const id = newId('enr');
    await trx
      .insertInto('sequence_enrollments')
      .values({
        id,
        account_id: actor.accountId,
        sequence_id: seq.id,
        sequence_version: Number(seq.version),
        definition: seq.definition,
        contact_id: contact.id,
        active_contact_id: contact.id,
        contact_email: primary.email_key,
        email_domain: isFreemailDomain(domain) ? null : domain,
        company_id: contact.company_id,
        user_id: actor.user.id,
        connection_id: connection.id,
        time_zone: zone,
        state: 'active',
        reason: null,
        step_index: 0,
        next_due_at: firstDue,
        last_due_at: now,
        thread: '{}',
        enrolled_at: now,
        ended_at: null,
        updated_at: now,
      })
      .execute();
    await addHistory(trx, { id, account_id: actor.accountId }, 'enrolled', null, { sequenceVersion: Number(seq.version), timeZone: zone, firstDueAt: new Date(firstDue).toISOString() }, now);
    await recordEnrollmentEvent(trx, { id, account_id: actor.accountId, sequence_id: seq.id, contact_id: contact.id }, 'created', null, now);
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'sequence.enrolled', targetType: 'sequence_enrollment', targetId: id, data: { sequenceId: seq.id, contactId: contact.id, connectionId: connection.id }, at: now });
    await wakeScheduler(trx, now);
    const row = await trx.selectFrom('sequence_enrollments').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return (await enrollmentViews(trx, [row]))[0]!;
  }).catch((err: unknown) => {
    // Two enrollments of one contact racing: the partial-unique index lets one win.
    if (err instanceof AppError) throw err;
    const m = String((err as { message?: string; code?: string }).code ?? '') + String((err as Error).message ?? '');
    if (/23505|UNIQUE|unique/.test(m) && /active_contact|sequence_enrollments/.test(m)) throw new AppError('already_enrolled', 409, 'This contact was just enrolled in a sequence. A contact is in one sequence at a time.');
    throw err;
  });
  env.onJobsQueued?.();
  return result;
}

function safeJson(text: string | null | undefined): unknown {
  if (!text) return [];
  try {
    return JSON.parse(text);
  } catch {
    return [];
  }
}

