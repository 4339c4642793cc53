import crypto from 'node:crypto';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { addressKey } from '../domain/address-key.js';
import { checkConnect, type ConnectFacts, type ConnectRequest, type Refusal } from '../domain/connection-rules.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor, UserRow } from '../../../platform/context.js';
import { connectionViewById, liveHolders, type ConnectionView } from '../queries.js';
import { connectedColumns, recordStateEvent } from '../lifecycle.js';
import { loadUser } from '../../accounts/index.js';
import { userFactsFromRow } from '../../accounts/index.js';
import { NEW_CONNECTION_COLUMNS } from '../connection-row.js';
import { verifyConnectionSettings } from '../../../mail/verify-connection.js';

/**
 * An OAuth sign-in in place of passwords (issue 14): the connection's credentials hold the access token,
 * and `store` writes the grant (sealed refresh token) in the connect transaction.
 */
export interface OAuthCredentials {
  accessToken: string;
  store: (trx: Executor, connectionId: string) => Promise<void>;
}

export interface ServerInput {
  host: string;
  port: number;
  tls: 'tls' | 'starttls' | 'none';
  username?: string;
  password: string;
}

export interface ConnectEmailInput {
  type: 'personal' | 'team';
  address: string;
  /** Team email: the conversations inbox it feeds. */
  inboxId?: string;
  /** Personal email: the owner; admins may connect for another user. Default: the actor. */
  userId?: string;
  transport: 'imap' | 'forwarding';
  imap?: ServerInput;
  smtp: ServerInput;
  useForMeetings?: boolean;
  /** Days of history for the initial sync; null = everything. Default 90. */
  syncWindowDays?: number | null;
}

/** The refusal of a pure rule, as the API's error. */
export function refusalError(r: Refusal): AppError {
  return new AppError(r.code, r.status, r.message, r.details, { holder: r.holder, resolution: r.resolution });
}

async function gatherFacts(db: Executor, actor: Actor, input: ConnectEmailInput, key: string, target: UserRow | undefined): Promise<ConnectFacts> {
  const existing = await liveHolders(db, actor.accountId, key);
  const personalCount = target
    ? Number(
        (
          await db
            .selectFrom('connections')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('user_id', '=', target.id)
            .where('type', '=', 'personal')
            .where('disconnected_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      )
    : 0;
  const inbox = input.inboxId
    ? await db.selectFrom('inboxes').select(['id']).where('id', '=', input.inboxId).where('account_id', '=', actor.accountId).where('deleted_at', 'is', null).executeTakeFirst()
    : undefined;
  const inboxTeamCount = inbox
    ? Number(
        (
          await db
            .selectFrom('connections')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('inbox_id', '=', inbox.id)
            .where('disconnected_at', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      )
    : 0;
  const meetings = target
    ? await db.selectFrom('connections').select('id').where('user_id', '=', target.id).where('use_for_meetings', '=', 1).where('disconnected_at', 'is', null).executeTakeFirst()
    : undefined;
  return {
    plan: actor.plan,
    existing: existing.map((h) =>
      h.kind === 'personal'
        ? { kind: 'personal' as const, connectionId: h.connectionId, userId: h.userId, userName: h.userName, userState: h.userState as never }
        : { kind: 'team' as const, connectionId: h.connectionId, inboxId: h.inboxId!, inboxName: h.inboxName ?? '', connectedByUserId: h.userId },
    ),
    targetUserPersonalCount: personalCount,
    inboxExists: Boolean(inbox),
    inboxTeamConnectionCount: inboxTeamCount,
    userHasMeetingsConnection: Boolean(meetings),
  };
}

function ruleRequest(actor: Actor, input: ConnectEmailInput, key: string, target: UserRow | undefined): ConnectRequest {
  const person = userFactsFromRow;
  return {
    type: input.type,
    addressKey: key,
    actor: person(actor.user),
    ...(target ? { targetUser: person(target) } : {}),
    ...(input.inboxId ? { inboxId: input.inboxId } : {}),
    ...(input.useForMeetings !== undefined ? { useForMeetings: input.useForMeetings } : {}),
    transport: input.transport,
  };
}

function forwardingAddressFor(key: string, domain: string): string {
  const local = key.split('@')[0]!.replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 24) || 'team';
  return `${local}.${crypto.randomBytes(5).toString('hex')}@${domain}`;
}

function validateServers(input: ConnectEmailInput, key: string, oauth?: OAuthCredentials): void {
  const check = (s: ServerInput | undefined, name: 'imap' | 'smtp') => {
    if (!s) throw invalidRequest(`${name.toUpperCase()} settings are needed: host, port, security and password.`, { field: name });
    if (!s.host?.trim()) throw invalidRequest(`Enter the ${name.toUpperCase()} server host.`, { field: `${name}.host` });
    if (!Number.isInteger(s.port) || s.port < 1 || s.port > 65535) throw invalidRequest(`The ${name.toUpperCase()} port must be a number between 1 and 65535.`, { field: `${name}.port` });
    if (!s.password && !oauth) throw invalidRequest(`Enter the ${name.toUpperCase()} password.`, { field: `${name}.password` });
    s.username = s.username?.trim() || key;
  };
  if (input.transport === 'forwarding' && input.type !== 'team') {
    throw invalidRequest('Forwarding is only for team email. Connect personal email with IMAP and SMTP.', { field: 'transport' });
  }
  if (input.transport === 'imap') check(input.imap, 'imap');
  check(input.smtp, 'smtp');
}

/**
 * Connects an email address as personal email (one user's mailbox) or team email (feeding one
 * conversations inbox). Order: validate, check the rules (fast refusal), live-test the mail servers,
 * then re-check the rules and write inside one transaction; the database's unique index on live
 * addresses settles any race, and the loser gets the same `address_in_use` refusal naming the holder.
 * Reconnecting an address that was disconnected reuses its old connection, so sync resumes from its
 * checkpoint and history is not duplicated.
 */
export async function connectEmail(env: CommandEnv, actor: Actor, input: ConnectEmailInput, oauth?: OAuthCredentials): Promise<ConnectionView> {
  const parsed = addressKey(input.address ?? '');
  if (!parsed.ok) throw invalidRequest(parsed.message, { field: 'address' });
  const key = parsed.key;
  if (input.type === 'team' && !input.inboxId) throw invalidRequest('Choose the conversations inbox this team address feeds (inboxId).', { field: 'inboxId' });
  if (input.type === 'personal' && input.inboxId) throw invalidRequest('Personal email does not feed an inbox; leave inboxId out or connect it as team email.', { field: 'inboxId' });
  validateServers(input, key, oauth);
  const targetId = input.type === 'personal' ? input.userId ?? actor.user.id : undefined;
  const target = targetId ? await loadUser(env.db, actor.accountId, targetId) : undefined;

  const pre = checkConnect(ruleRequest(actor, input, key, target), await gatherFacts(env.db, actor, input, key, target));
  if (!pre.ok) throw refusalError(pre.refusal);

  const verified = oauth
    ? await verifyConnectionSettings({
        ...(input.transport === 'imap' ? { imap: { ...input.imap!, username: input.imap!.username!, password: '', accessToken: oauth.accessToken } } : {}),
        smtp: { ...input.smtp, username: input.smtp.username!, password: '', accessToken: oauth.accessToken },
      })
    : await env.verifyMailSettings({
        ...(input.transport === 'imap' ? { imap: { ...input.imap!, username: input.imap!.username! } } : {}),
        smtp: { ...input.smtp, username: input.smtp.username! },
      });

  const now = env.now();
  let id: string;
  try {
    id = await env.db.transaction().execute(async (trx) => {
      const decision = checkConnect(ruleRequest(actor, input, key, target), await gatherFacts(trx, actor, input, key, target));
      if (!decision.ok) throw refusalError(decision.refusal);
      const effects = decision.effects;
      const credentials = env.secrets.seal(
        JSON.stringify(oauth ? { imapPassword: null, smtpPassword: '', oauth: { accessToken: oauth.accessToken } } : { imapPassword: input.imap?.password ?? null, smtpPassword: input.smtp.password }),
      );
      if (effects.clearMeetingsFlagOnOthers && target) {
        await trx.updateTable('connections').set({ use_for_meetings: 0 }).where('user_id', '=', target.id).where('use_for_meetings', '=', 1).execute();
      }
      let reuse = trx
        .selectFrom('connections')
        .select(['id', 'state', 'stage'])
        .where('account_id', '=', actor.accountId)
        .where('address_key', '=', key)
        .where('type', '=', input.type)
        .where('disconnected_at', 'is not', null);
      reuse = input.type === 'personal' ? reuse.where('user_id', '=', target!.id) : reuse.where('inbox_id', '=', input.inboxId!);
      const previous = await reuse.orderBy('disconnected_at', 'desc').limit(1).executeTakeFirst();
      const values = {
        account_id: actor.accountId,
        type: input.type,
        address: parsed.display,
        address_key: key,
        user_id: target?.id ?? actor.user.id,
        inbox_id: input.type === 'team' ? input.inboxId! : null,
        transport: input.transport,
        ...connectedColumns(previous ?? null, input.transport, now),
        imap_host: input.imap?.host.trim() ?? null,
        imap_port: input.imap?.port ?? null,
        imap_tls: input.imap?.tls ?? null,
        imap_username: input.imap?.username ?? null,
        smtp_host: input.smtp.host.trim(),
        smtp_port: input.smtp.port,
        smtp_tls: input.smtp.tls,
        smtp_username: input.smtp.username!,
        credentials,
        sent_folder: verified.sentFolder,
        folders: JSON.stringify(input.type === 'personal' ? ['INBOX', ...(verified.sentFolder ? [verified.sentFolder] : [])] : ['INBOX']),
        sync_window_days: input.syncWindowDays === undefined ? 90 : input.syncWindowDays,
        is_default_from: effects.isDefaultFrom ? 1 : 0,
        use_for_meetings: effects.useForMeetings ? 1 : 0,
        updated_at: now,
      };
      let connId: string;
      if (previous) {
        connId = previous.id;
        await trx.updateTable('connections').set(values).where('id', '=', connId).execute();
      } else {
        connId = newId('con');
        await trx
          .insertInto('connections')
          .values({
            ...values,
            ...NEW_CONNECTION_COLUMNS,
            id: connId,
            forwarding_address: input.transport === 'forwarding' ? forwardingAddressFor(key, env.settings.inboundDomain) : null,
            sender_name_mode: input.type === 'team' ? 'agent_at_inbox' : null,
            created_at: now,
          })
          .execute();
      }
      await recordStateEvent(trx, { accountId: actor.accountId, connectionId: connId, from: previous?.state ?? null, to: values.state, at: now });
      if (oauth) await oauth.store(trx, connId);
      if (input.transport === 'forwarding' && previous) {
        const row = await trx.selectFrom('connections').select('forwarding_address').where('id', '=', connId).executeTakeFirstOrThrow();
        if (!row.forwarding_address) await trx.updateTable('connections').set({ forwarding_address: forwardingAddressFor(key, env.settings.inboundDomain) }).where('id', '=', connId).execute();
      }
      if (input.transport === 'imap') {
        await enqueue(trx, now, { queue: 'sync', kind: 'connection.sync', payload: { connectionId: connId }, dedupeKey: `sync:${connId}` });
      }
      await recordAudit(trx, {
        accountId: actor.accountId,
        actorUserId: actor.user.id,
        action: previous ? 'connection.reconnected' : 'connection.connected',
        targetType: 'connection',
        targetId: connId,
        data: { type: input.type, address: key, transport: input.transport, userId: target?.id ?? null, inboxId: input.inboxId ?? null, ...(oauth ? { auth: 'oauth' } : {}) },
        at: now,
      });
      return connId;
    });
  } catch (err) {
    if (isUniqueViolation(err)) {
      // Lost a race: someone else connected this address (or a meetings/default flag) in between.
      const again = checkConnect(ruleRequest(actor, input, key, target), await gatherFacts(env.db, actor, input, key, target));
      if (!again.ok) throw refusalError(again.refusal);
      throw new AppError('conflict', 409, 'Another change to this address happened at the same moment. Try again.');
    }
    throw err;
  }
  env.onJobsQueued?.();
  return connectionViewById(env.db, actor.accountId, id);
}
