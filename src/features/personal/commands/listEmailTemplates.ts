import type { TemplateKind } from '../domain/templates.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { templateView, type EmailTemplateView } from '../templates.js';

/** The templates and snippets the actor may use: their own and the account's shared ones, by name. */
export async function listEmailTemplates(env: CommandEnv, actor: Actor, filter: { kind?: TemplateKind; q?: string } = {}): Promise<{ templates: EmailTemplateView[] }> {
  let q = env.db
    .selectFrom('email_templates as t')
    .leftJoin('users as u', 'u.id', 't.owner_user_id')
    .selectAll('t')
    .select('u.name as owner_name')
    .where('t.account_id', '=', actor.accountId)
    .where((eb) => eb.or([eb('t.owner_user_id', '=', actor.user.id), eb('t.shared', '=', 1)]));
  if (filter.kind) q = q.where('t.kind', '=', filter.kind);
  const rows = await q.orderBy('t.name').orderBy('t.id').execute();
  const needle = filter.q?.trim().toLowerCase();
  const views = rows
    .filter((r) => !needle || r.name.toLowerCase().includes(needle) || (r.shortcut ?? '').includes(needle) || r.subject.toLowerCase().includes(needle))
    .map(({ owner_name, ...row }) => templateView(row, actor, owner_name ?? null));
  return { templates: views };
}
