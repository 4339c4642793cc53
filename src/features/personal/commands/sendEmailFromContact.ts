import type { Actor, CommandEnv } from '../../../platform/context.js';
import { composeAndQueue, type ComposeDeps, type ComposeEmailInput } from '../compose.js';
import { personalEmailViews, type PersonalEmailView } from '../queries.js';

export type SendEmailFromContactInput = ComposeEmailInput;

/**
 * Sends (or schedules) a one-to-one email from a contact's record through one of the actor's own personal
 * connections: tokens rendered (refused when a value is missing and there is no fallback), signature and
 * default font applied, links and pixel added when tracking is on, queued in the durable outbox (sent once,
 * copy stored in the conversation and appended to the Sent folder). It appears on the timelines of the
 * contacts it is logged to once it has been sent. One transaction; audited.
 */
export async function sendEmailFromContact(env: CommandEnv, actor: Actor, contactId: string, input: SendEmailFromContactInput, deps: ComposeDeps): Promise<PersonalEmailView & { createdContactIds: string[]; undoUntil: string | null }> {
  const result = await env.db.transaction().execute(async (trx) => {
    const composed = await composeAndQueue(trx, env, actor, contactId, input, deps);
    const row = await trx.selectFrom('personal_emails').selectAll().where('id', '=', composed.personalEmailId).executeTakeFirstOrThrow();
    const [view] = await personalEmailViews(trx, [row]);
    return { ...view!, createdContactIds: composed.createdContactIds, undoUntil: composed.undoUntil ? new Date(composed.undoUntil).toISOString() : null };
  });
  env.onJobsQueued?.();
  return result;
}
