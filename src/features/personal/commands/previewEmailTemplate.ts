import { AppError, invalidRequest } from '../../../platform/errors.js';
import { renderPersonalEmail } from '../domain/compose.js';
import { describeTokenProblems } from '../domain/tokens.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { emailsOf, loadContact } from '../../crm/index.js';
import { loadUsableTemplate } from '../templates.js';
import { tokenValuesFor } from '../compose.js';
import { loadEmailPreferences, ownPersonalConnections } from '../queries.js';

export interface TemplatePreview {
  subject: string;
  html: string;
  /** Tokens that have no value for this contact and no fallback: sending would be refused until fixed. */
  problems: Array<{ token: string; reason: string; name?: string }>;
  message: string | null;
}

/**
 * How a template would read for one contact, from the actor's default "from", with their signature and
 * default font: what the composer shows before sending. Missing values are listed, not raised, so the
 * composer can point at each one. Nothing is queued.
 */
export async function previewEmailTemplate(env: CommandEnv, actor: Actor, templateId: string, contactId: string | undefined): Promise<TemplatePreview> {
  const db = env.db;
  const template = await loadUsableTemplate(db, actor, templateId, 'template');
  if (!contactId) throw invalidRequest('Choose the contact to preview the template for (contactId).', { field: 'contactId' });
  const contact = await loadContact(db, actor.accountId, contactId);
  const primary = ((await emailsOf(db, actor.accountId, [contact.id])).get(contact.id) ?? [])[0] ?? null;
  const connection = (await ownPersonalConnections(db, actor.accountId, actor.user.id))[0];
  if (!connection) throw new AppError('no_personal_connection', 409, 'Connect your mailbox first (Settings → Email → Connect personal email): email from the CRM is sent through your own mailbox.');
  const prefs = await loadEmailPreferences(db, actor.user.id);
  const values = await tokenValuesFor(db, actor, contact, primary?.email ?? null, connection.address);
  const r = renderPersonalEmail({ subject: template.subject, html: template.html, values, signature: prefs.signature ?? connection.signature, font: prefs.font });
  return {
    subject: r.subject,
    html: r.html,
    problems: r.problems,
    message: r.problems.length ? describeTokenProblems(r.problems).replace(/^Nothing was sent: /, 'This email could not be sent yet: ') : null,
  };
}
