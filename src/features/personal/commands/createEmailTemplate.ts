import { AppError, invalidRequest } from '../../../platform/errors.js';
import { checkTemplate, MAX_TEMPLATES_PER_USER, type TemplateInput } from '../domain/templates.js';
import { personalPolicies } from '../policies.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { templateView, type EmailTemplateView } from '../templates.js';
import { authorize } from '../../../platform/authorize.js';

/**
 * Saves a new email template or snippet for the actor. Tokens are checked now (unknown or malformed ones
 * refused with the field named); sharing with the whole account is for admins. Audited.
 */
export async function createEmailTemplate(env: CommandEnv, actor: Actor, input: TemplateInput): Promise<EmailTemplateView> {
  const r = checkTemplate(input);
  if (!r.ok) throw invalidRequest(r.message, { field: r.field });
  if (r.template.shared) authorize(actor, personalPolicies.shareNewTemplate);
  const now = env.now();
  try {
    return await env.db.transaction().execute(async (trx) => {
      const count = await trx.selectFrom('email_templates').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', actor.accountId).where('owner_user_id', '=', actor.user.id).executeTakeFirstOrThrow();
      if (Number(count.n) >= MAX_TEMPLATES_PER_USER) throw new AppError('limit_reached', 409, `You have ${MAX_TEMPLATES_PER_USER} templates and snippets, the most one user can keep. Delete some you no longer use.`);
      const row = {
        id: newId(r.template.kind === 'snippet' ? 'snp' : 'tpl'),
        account_id: actor.accountId,
        owner_user_id: actor.user.id,
        kind: r.template.kind,
        name: r.template.name,
        subject: r.template.subject,
        html: r.template.html,
        shortcut: r.template.shortcut,
        shared: r.template.shared ? 1 : 0,
        created_at: now,
        updated_at: now,
      };
      await trx.insertInto('email_templates').values(row).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: `email_${r.template.kind}.created`, targetType: r.template.kind, targetId: row.id, data: { name: row.name, shared: r.template.shared }, at: now });
      return templateView(row, actor, actor.user.name);
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('shortcut_in_use', 409, `You already have a snippet with the shortcut /${r.template.shortcut}. Choose another shortcut, or edit that snippet.`, { field: 'shortcut' });
    throw err;
  }
}
