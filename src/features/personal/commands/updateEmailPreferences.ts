import { invalidRequest } from '../../../platform/errors.js';
import { checkFont } from '../domain/font.js';
import { MAX_NEVER_LOG_ENTRIES, parseNeverLogEntry, type NeverLogEntry } from '../domain/logging.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadEmailPreferences } from '../queries.js';
import { emailPreferencesView, type EmailPreferencesView } from './getEmailPreferences.js';

export interface UpdateEmailPreferencesInput {
  /** Log email sent from the CRM by default (each email can override). */
  log?: boolean;
  trackOpens?: boolean;
  trackClicks?: boolean;
  /** Default font of everything sent from the CRM; null: the recipient's client default. */
  font?: { family: string; sizePx: number; color: string } | null;
  /** HTML or plain text added below emails; null: none. */
  signature?: string | null;
  /** Addresses and domains whose mail is never logged (replaces the whole list). */
  neverLog?: string[];
}

export const MAX_SIGNATURE_LENGTH = 10_000;

/** Parses a never-log list (400 naming the bad entry); repeats dropped. */
export function neverLogList(inputs: readonly string[], field: string): NeverLogEntry[] {
  const out: NeverLogEntry[] = [];
  for (const input of inputs) {
    const r = parseNeverLogEntry(input);
    if (!r.ok) throw invalidRequest(r.message, { field, entry: input });
    if (!out.some((e) => e.kind === r.entry.kind && e.value === r.entry.value)) out.push(r.entry);
  }
  if (out.length > MAX_NEVER_LOG_ENTRIES) throw invalidRequest(`A never-log list can have at most ${MAX_NEVER_LOG_ENTRIES} entries.`, { field });
  return out;
}

/** Changes the actor's own personal email defaults (nobody else's). Audited. */
export async function updateEmailPreferences(env: CommandEnv, actor: Actor, input: UpdateEmailPreferencesInput): Promise<EmailPreferencesView> {
  let font: string | null | undefined;
  if (input.font === null) font = null;
  else if (input.font !== undefined) {
    const r = checkFont(input.font);
    if (!r.ok) throw invalidRequest(r.message, { field: `font.${r.field}` });
    font = JSON.stringify(r.font);
  }
  if (typeof input.signature === 'string' && input.signature.length > MAX_SIGNATURE_LENGTH) throw invalidRequest(`The signature is longer than ${MAX_SIGNATURE_LENGTH} characters.`, { field: 'signature' });
  const neverLog = input.neverLog ? neverLogList(input.neverLog, 'neverLog') : undefined;
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const current = await loadEmailPreferences(trx, actor.user.id);
    const row = {
      user_id: actor.user.id,
      account_id: actor.accountId,
      log_emails: (input.log ?? current.log) ? 1 : 0,
      track_opens: (input.trackOpens ?? current.trackOpens) ? 1 : 0,
      track_clicks: (input.trackClicks ?? current.trackClicks) ? 1 : 0,
      font: font !== undefined ? font : current.font ? JSON.stringify(current.font) : null,
      signature: input.signature !== undefined ? (input.signature?.trim() ? input.signature : null) : current.signature,
      never_log: JSON.stringify(neverLog ?? current.neverLog),
      updated_at: now,
    };
    const { user_id: _u, account_id: _a, ...patch } = row;
    await trx.insertInto('email_preferences').values(row).onConflict((oc) => oc.column('user_id').doUpdateSet(patch)).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'email_preferences.updated', targetType: 'user', targetId: actor.user.id, data: { changed: Object.keys(input) }, at: now });
    return emailPreferencesView(trx, actor);
  });
}
