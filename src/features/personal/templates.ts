import { notFound } from '../../platform/errors.js';
import { personalPolicies } from './policies.js';
import { can, authorize } from '../../platform/authorize.js';
import { mayUseTemplate, type TemplateKind } from './domain/templates.js';
import type { EmailTemplatesTable } from '../../platform/database/schema.js';
import type { Actor, Executor } from '../../platform/context.js';

export interface EmailTemplateView {
  id: string;
  kind: TemplateKind;
  name: string;
  subject: string;
  html: string;
  shortcut: string | null;
  shared: boolean;
  owner: { id: string; name: string } | null;
  /** The actor may change or delete it. */
  editable: boolean;
  createdAt: string;
  updatedAt: string;
}

export function templateView(row: EmailTemplatesTable, actor: Actor, ownerName: string | null): EmailTemplateView {
  return {
    id: row.id,
    kind: row.kind,
    name: row.name,
    subject: row.subject,
    html: row.html,
    shortcut: row.shortcut,
    shared: row.shared === 1,
    owner: ownerName === null ? null : { id: row.owner_user_id, name: ownerName },
    editable: can(actor, personalPolicies.editTemplate, { ownerUserId: row.owner_user_id, shared: row.shared === 1, doing: 'change' }),
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  };
}

/**
 * A template the actor may use (their own, or shared in their account); 404 otherwise, so nobody learns
 * that someone else's private template exists.
 */
export async function loadUsableTemplate(trx: Executor, actor: Actor, id: string, kind?: TemplateKind): Promise<EmailTemplatesTable> {
  const row = await trx.selectFrom('email_templates').selectAll().where('id', '=', id).where('account_id', '=', actor.accountId).executeTakeFirst();
  if (!row || !mayUseTemplate({ ownerUserId: row.owner_user_id, shared: row.shared === 1 }, { userId: actor.user.id }) || (kind && row.kind !== kind)) {
    throw notFound(kind === 'snippet' ? 'Snippet' : 'Template');
  }
  return row;
}

export async function ownerName(trx: Executor, userId: string): Promise<string | null> {
  return (await trx.selectFrom('users').select('name').where('id', '=', userId).executeTakeFirst())?.name ?? null;
}

/** A template the actor may change or delete: its owner, or an admin when it is shared (403 otherwise; 404 if not usable). */
export async function loadEditableTemplate(trx: Executor, actor: Actor, id: string, doing: 'change' | 'delete'): Promise<EmailTemplatesTable> {
  const row = await loadUsableTemplate(trx, actor, id);
  authorize(actor, personalPolicies.editTemplate, { ownerUserId: row.owner_user_id, shared: row.shared === 1, doing });
  return row;
}
