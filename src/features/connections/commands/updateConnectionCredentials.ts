import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import { checkConnectionUpdate } from '../domain/connection-rules.js';
import { isAdmin, userFactsFromRow } from '../../accounts/index.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { connectionViewById, loadConnection } from '../queries.js';
import { markCredentialsUpdated, type Transport } from '../lifecycle.js';
import { refusalError, type ServerInput } from './connectEmail.js';
import { readJson, shapes } from '../../../platform/database/json.js';

export interface UpdateCredentialsInput {
  /** New IMAP settings; omitted fields keep their value, the password is required. */
  imap?: Partial<ServerInput> & { password: string };
  smtp?: Partial<ServerInput> & { password: string };
}

/**
 * The fix for a connection whose password changed (auth_failed) or whose server moved: the new
 * settings are checked live like a connect, then stored encrypted; sync resumes from its checkpoint,
 * so nothing is fetched twice.
 */
export async function updateConnectionCredentials(env: CommandEnv, actor: Actor, connectionId: string, input: UpdateCredentialsInput) {
  const c = await loadConnection(env.db, actor.accountId, connectionId);
  if (c.type === 'personal' && c.user_id !== actor.user.id && !isAdmin(actor.user)) throw notFound('Connection');
  const decision = checkConnectionUpdate(userFactsFromRow(actor.user), { type: c.type as 'personal' | 'team', userId: c.user_id, inboxId: c.inbox_id }, {});
  if (!decision.ok) throw refusalError(decision.refusal);
  if (c.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected. Connect it again instead.`);
  if (!input.imap && !input.smtp) throw invalidRequest('Send the new IMAP and/or SMTP password.');
  if (input.imap && c.transport !== 'imap') throw invalidRequest('This connection receives mail by forwarding; it has no IMAP settings.', { field: 'imap' });
  const old = readJson('connections.credentials', env.secrets.open(c.credentials!), shapes.mailCredentials);
  const imap = c.transport === 'imap'
    ? { host: input.imap?.host ?? c.imap_host!, port: input.imap?.port ?? c.imap_port!, tls: (input.imap?.tls ?? c.imap_tls) as 'tls', username: input.imap?.username ?? c.imap_username!, password: input.imap?.password ?? old.imapPassword! }
    : undefined;
  const smtp = { host: input.smtp?.host ?? c.smtp_host!, port: input.smtp?.port ?? c.smtp_port!, tls: (input.smtp?.tls ?? c.smtp_tls) as 'tls', username: input.smtp?.username ?? c.smtp_username!, password: input.smtp?.password ?? old.smtpPassword };
  const verified = await env.verifyMailSettings({ ...(imap ? { imap } : {}), smtp });
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    await markCredentialsUpdated(trx, c.id, {
      transport: c.transport as Transport,
      now,
      also: {
        imap_host: imap?.host ?? null,
        imap_port: imap?.port ?? null,
        imap_tls: imap?.tls ?? null,
        imap_username: imap?.username ?? null,
        smtp_host: smtp.host,
        smtp_port: smtp.port,
        smtp_tls: smtp.tls,
        smtp_username: smtp.username,
        credentials: env.secrets.seal(JSON.stringify({ imapPassword: imap?.password ?? null, smtpPassword: smtp.password })),
        sent_folder: c.sent_folder ?? verified.sentFolder,
      },
    });
    if (c.transport === 'imap') await enqueue(trx, now, { queue: 'sync', kind: 'connection.sync', payload: { connectionId: c.id }, dedupeKey: `sync:${c.id}` });
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'connection.credentials_updated', targetType: 'connection', targetId: c.id, data: { imap: Boolean(input.imap), smtp: Boolean(input.smtp) }, at: now });
  });
  env.onJobsQueued?.();
  return connectionViewById(env.db, actor.accountId, c.id);
}

/** "Sync now": queue a sync pass for a live IMAP connection (no-op when one is already queued or running). */
export async function resyncConnection(env: CommandEnv, actor: Actor, connectionId: string) {
  const c = await loadConnection(env.db, actor.accountId, connectionId);
  if (c.type === 'personal' && c.user_id !== actor.user.id && !isAdmin(actor.user)) throw notFound('Connection');
  if (c.disconnected_at !== null || c.transport !== 'imap') throw new AppError('connection_not_syncable', 409, `${c.address} is ${c.disconnected_at ? 'disconnected' : 'connected by forwarding'}; there is nothing to sync.`);
  if (c.state === 'auth_failed') throw new AppError('imap_authentication_failed', 409, `The mail server refuses the password of ${c.address}. Update the password first.`);
  await enqueue(env.db, env.now(), { queue: 'sync', kind: 'connection.sync', payload: { connectionId: c.id }, dedupeKey: `sync:${c.id}` });
  env.onJobsQueued?.();
  return connectionViewById(env.db, actor.accountId, c.id);
}
