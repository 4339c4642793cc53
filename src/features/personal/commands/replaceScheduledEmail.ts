import { AppError } from '../../../platform/errors.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { composeAndQueue, type ComposeDeps, type ComposeEmailInput } from '../compose.js';
import { loadOwnPersonalEmail, personalEmailViews, type PersonalEmailView } from '../queries.js';
import { stopBeforeSending } from './cancelScheduledEmail.js';

/**
 * Replaces an email that has not left yet with a new version (subject, body, recipients, time...), for the
 * same contact. Only the user who scheduled it may (anyone else: 404); 409 when it already left. The old
 * one is cancelled and points at its replacement, in one transaction: exactly one of them is ever sent.
 */
export async function replaceScheduledEmail(env: CommandEnv, actor: Actor, personalEmailId: string, input: ComposeEmailInput, deps: ComposeDeps): Promise<PersonalEmailView> {
  const view = await env.db.transaction().execute(async (trx) => {
    const old = await loadOwnPersonalEmail(trx, actor, personalEmailId);
    await stopBeforeSending(trx, old.outbox_id);
    // Deleting the contact cancels its unsent emails (stopBeforeSending refuses those); a guard for the type.
    if (old.contact_id === null) throw new AppError('email_not_cancellable', 409, 'The contact this email was written to was deleted, so it can no longer be changed.', { state: 'cancelled' });
    const composed = await composeAndQueue(trx, env, actor, old.contact_id, input, deps);
    await trx.updateTable('personal_emails').set({ replaced_by: composed.personalEmailId }).where('id', '=', old.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'personal_email.replaced', targetType: 'personal_email', targetId: old.id, data: { replacement: composed.personalEmailId }, at: env.now() });
    const row = await trx.selectFrom('personal_emails').selectAll().where('id', '=', composed.personalEmailId).executeTakeFirstOrThrow();
    return (await personalEmailViews(trx, [row]))[0]!;
  });
  env.onJobsQueued?.();
  return view;
}
