/**
 * Full payloads (an endpoint with `payload: "full"`): the object an event is about, loaded at delivery
 * time through its owning feature's door, scoped to the event's account (tenant isolation: the loaders
 * filter by account), as the API shows it. Contacts and companies as in the CRM API; conversations of
 * team inboxes as in the inbox list (personal conversations stay private to their owner: null). An object
 * deleted since the event is null.
 */
import type { CommandEnv } from '../../platform/context.js';
import { AppError } from '../../platform/errors.js';
import { companyViewById, contactViewById } from '../crm/index.js';
import { conversationItemById } from '../inbox/index.js';

/** Subject types whose events carry `data.object` on full-payload endpoints. */
export const FULL_SUBJECTS = ['contact', 'company', 'conversation'] as const;

export function hasFullObject(subjectType: string): boolean {
  return (FULL_SUBJECTS as readonly string[]).includes(subjectType);
}

/** The object as the API shows it now, or null (gone, or not shown to webhooks). */
export async function loadObject(env: CommandEnv, accountId: string, subjectType: string, subjectId: string): Promise<unknown> {
  try {
    if (subjectType === 'contact') return await contactViewById(env.db, accountId, subjectId);
    if (subjectType === 'company') return await companyViewById(env.db, accountId, subjectId);
    if (subjectType === 'conversation') {
      const c = await conversationItemById(env.db, accountId, subjectId, env.now());
      return c.inboxId ? c : null;
    }
    return null;
  } catch (err) {
    if (err instanceof AppError && err.status === 404) return null;
    throw err;
  }
}
