/**
 * Bulk enroll: up to MAX_BULK_ENROLL contacts into one sequence (from a list of contacts or the sequence
 * page), each through `enrollContact` with all its rules, in its own transaction, so one refused contact
 * never stops the others. The answer says, per contact, enrolled or why not (already in a sequence, no
 * email, bounced, unsubscribed, never-log list, tokens it cannot fill, not found). Problems of the request
 * itself (sequence archived or not found, no personal mailbox, a team address, plan) refuse it whole.
 */
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { sequencesPolicies } from '../policies.js';
import { loadSequence } from '../queries.js';
import { enrollContact } from './enrollContact.js';

export const MAX_BULK_ENROLL = 200;

/** Refusals that belong to one contact; anything else is about the whole request. */
const PER_CONTACT = new Set(['already_enrolled', 'contact_not_enrollable', 'unresolved_tokens', 'not_found']);

export interface BulkEnrollResult {
  contactId: string;
  enrolled: boolean;
  enrollmentId?: string;
  code?: string;
  reason?: string;
  message?: string;
}

export async function enrollContacts(env: CommandEnv, actor: Actor, sequenceId: string, input: { contactIds: string[]; connectionId?: string; timeZone?: string }) {
  authorize(actor, sequencesPolicies.use);
  const seq = await loadSequence(env.db, actor.accountId, sequenceId);
  if (seq.archived_at !== null) throw new AppError('sequence_archived', 409, `${seq.name} is archived and takes no new enrollments.`);
  const ids = [...new Set(input.contactIds)];
  if (!ids.length) throw invalidRequest('Choose at least one contact to enroll.', { field: 'contactIds' });
  if (ids.length > MAX_BULK_ENROLL) throw invalidRequest(`At most ${MAX_BULK_ENROLL} contacts at once; you chose ${ids.length}. Enroll them in several steps.`, { field: 'contactIds' });
  const results: BulkEnrollResult[] = [];
  for (const contactId of ids) {
    try {
      const e = await enrollContact(env, actor, sequenceId, { contactId, ...(input.connectionId ? { connectionId: input.connectionId } : {}), ...(input.timeZone ? { timeZone: input.timeZone } : {}) });
      results.push({ contactId, enrolled: true, enrollmentId: e.id });
    } catch (err) {
      if (!(err instanceof AppError) || !PER_CONTACT.has(err.code)) throw err;
      const reason = err.code === 'contact_not_enrollable' ? String((err.details as { reason?: unknown } | undefined)?.reason ?? '') : err.code;
      results.push({ contactId, enrolled: false, code: err.code, reason, message: err.message });
    }
  }
  return { enrolled: results.filter((r) => r.enrolled).length, refused: results.filter((r) => !r.enrolled).length, results };
}
