import { AppError, invalidRequest } from '../../../platform/errors.js';
import { checkTemplate, type TemplateInput } from '../domain/templates.js';
import { personalPolicies } from '../policies.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadEditableTemplate, ownerName, templateView, type EmailTemplateView } from '../templates.js';
import { authorize } from '../../../platform/authorize.js';

export type UpdateEmailTemplateInput = Partial<Omit<TemplateInput, 'kind'>>;

/** Changes a template or snippet: its owner, or an admin for a shared one. The kind never changes. Audited. */
export async function updateEmailTemplate(env: CommandEnv, actor: Actor, id: string, input: UpdateEmailTemplateInput): Promise<EmailTemplateView> {
  const now = env.now();
  let shortcut: string | null = null;
  try {
    return await env.db.transaction().execute(async (trx) => {
      const row = await loadEditableTemplate(trx, actor, id, 'change');
      const r = checkTemplate({
        kind: row.kind,
        name: input.name ?? row.name,
        subject: input.subject ?? row.subject,
        html: input.html ?? row.html,
        shortcut: input.shortcut !== undefined ? input.shortcut : row.shortcut,
        shared: input.shared ?? row.shared === 1,
      });
      if (!r.ok) throw invalidRequest(r.message, { field: r.field });
      if (r.template.shared !== (row.shared === 1)) authorize(actor, personalPolicies.changeTemplateSharing);
      shortcut = r.template.shortcut;
      const patch = { name: r.template.name, subject: r.template.subject, html: r.template.html, shortcut: r.template.shortcut, shared: r.template.shared ? 1 : 0, updated_at: now };
      await trx.updateTable('email_templates').set(patch).where('id', '=', row.id).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: `email_${row.kind}.updated`, targetType: row.kind, targetId: row.id, data: { changed: Object.keys(input) }, at: now });
      return templateView({ ...row, ...patch }, actor, await ownerName(trx, row.owner_user_id));
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('shortcut_in_use', 409, `You already have a snippet with the shortcut /${shortcut}. Choose another shortcut.`, { field: 'shortcut' });
    throw err;
  }
}
