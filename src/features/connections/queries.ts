import './oauth/schema.js';
import { sql } from 'kysely';
import { forwardingCheck } from './domain/forwarding-check.js';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import type { Executor } from '../../platform/context.js';
import { notFound } from '../../platform/errors.js';
import { json, readJson } from '../../platform/database/json.js';
import { waitsForOwner } from './lifecycle.js';

/** A live connection holding an address, described for refusals ("held by X, deactivated"). */
export interface HolderRow {
  connectionId: string;
  kind: 'personal' | 'team';
  userId: string;
  userName: string;
  userState: string;
  inboxId: string | null;
  inboxName: string | null;
}

export async function liveHolders(db: Executor, accountId: string, addressKey: string): Promise<HolderRow[]> {
  const rows = await db
    .selectFrom('connections')
    .innerJoin('users', 'users.id', 'connections.user_id')
    .leftJoin('inboxes', 'inboxes.id', 'connections.inbox_id')
    .select([
      'connections.id as connectionId',
      'connections.type as kind',
      'users.id as userId',
      'users.name as userName',
      'users.state as userState',
      'inboxes.id as inboxId',
      'inboxes.name as inboxName',
    ])
    .where('connections.account_id', '=', accountId)
    .where('connections.address_key', '=', addressKey)
    .where('connections.disconnected_at', 'is', null)
    .execute();
  return rows as HolderRow[];
}

export async function loadConnection(db: Executor, accountId: string, id: string): Promise<ConnectionsTable> {
  const c = await db.selectFrom('connections').selectAll().where('id', '=', id).where('account_id', '=', accountId).executeTakeFirst();
  if (!c) throw notFound('Connection');
  return c;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** When the lease of the worker holding the mailbox (`sync:<id>`) expires; null when no worker holds it. */
export async function syncLeaseExpiry(db: Executor, connectionId: string): Promise<number | null> {
  const row = await db.selectFrom('leases').select('expires_at').where('name', '=', `sync:${connectionId}`).executeTakeFirst();
  return row ? Number(row.expires_at) : null;
}

/**
 * Is the mailbox listening for new mail? `live` (IDLE) and `polling` (no IDLE on the server) as written by
 * the worker holding it, and only while that worker's lease is valid (a dead worker cannot say it stopped);
 * `waiting` otherwise (reconnecting, backing off, or not held by any worker yet); null when nothing will
 * listen (forwarding, disconnected, password refused). `leaseExpiresAt` undefined: lease not looked up.
 */
export function listeningView(c: ConnectionsTable, leaseExpiresAt: number | null | undefined, now: number): { listening: 'live' | 'polling' | 'waiting' | null; listeningSince: string | null } {
  if (c.transport !== 'imap' || c.disconnected_at !== null || waitsForOwner(c.state)) return { listening: null, listeningSince: null };
  const held = leaseExpiresAt === undefined || (leaseExpiresAt !== null && leaseExpiresAt >= now);
  if ((c.listening === 'live' || c.listening === 'polling') && held) return { listening: c.listening, listeningSince: iso(num(c.listening_since)) };
  return { listening: 'waiting', listeningSince: c.listening === 'waiting' ? iso(num(c.listening_since)) : null };
}

/** The API shape of a connection. Credentials never leave the server. */
export function connectionView(
  c: ConnectionsTable,
  names: { userName?: string | null; userState?: string | null; inboxName?: string | null; leaseExpiresAt?: number | null; oauthProvider?: string | null } = {},
) {
  return {
    id: c.id,
    type: c.type as 'personal' | 'team',
    address: c.address,
    addressKey: c.address_key,
    userId: c.user_id,
    userName: names.userName ?? null,
    userState: names.userState ?? null,
    inboxId: c.inbox_id,
    inboxName: names.inboxName ?? null,
    transport: c.transport as 'imap' | 'forwarding',
    /** Signed in with OAuth at this provider (issue 14), or null (passwords). */
    oauthProvider: (names.oauthProvider ?? null) as 'google' | 'microsoft' | 'oidc' | null,
    state: c.state,
    stage: c.stage,
    ...listeningView(c, names.leaseExpiresAt, Date.now()),
    progress: { done: c.progress_done, total: c.progress_total },
    lastError: c.last_error_code ? { code: c.last_error_code, message: c.last_error_message, at: iso(c.last_error_at) } : null,
    imap: c.imap_host ? { host: c.imap_host, port: c.imap_port, tls: c.imap_tls, username: c.imap_username } : null,
    smtp: c.smtp_host ? { host: c.smtp_host, port: c.smtp_port, tls: c.smtp_tls, username: c.smtp_username } : null,
    sentFolder: c.sent_folder,
    folders: readJson('connections.folders', c.folders, json.stringArray, []),
    isDefaultFrom: c.is_default_from === 1,
    useForMeetings: c.use_for_meetings === 1,
    forwardingAddress: c.forwarding_address,
    forwardingCheck: c.transport === 'forwarding' ? forwardingCheckView(c) : null,
    senderName: c.type === 'team' ? { mode: c.sender_name_mode ?? 'agent_at_inbox', custom: c.sender_name_custom } : null,
    signature: c.signature,
    sendLimits: { perDay: c.send_limit_day, perMinute: c.send_limit_minute },
    createdAt: iso(c.created_at),
    disconnectedAt: iso(c.disconnected_at),
  };
}
export type ConnectionView = ReturnType<typeof connectionView>;

export async function connectionViewById(db: Executor, accountId: string, id: string): Promise<ConnectionView> {
  return connectionViewOf(db, await loadConnection(db, accountId, id));
}

/** The API view of a loaded connection, with its user's and inbox's names. */
export async function connectionViewOf(db: Executor, c: ConnectionsTable): Promise<ConnectionView> {
  const u = await db.selectFrom('users').select(['name', 'state']).where('id', '=', c.user_id).executeTakeFirst();
  const i = c.inbox_id ? await db.selectFrom('inboxes').select(['name']).where('id', '=', c.inbox_id).executeTakeFirst() : undefined;
  const g = await db.selectFrom('oauth_grants').select('provider').where('connection_id', '=', c.id).executeTakeFirst();
  return connectionView(c, { userName: u?.name, userState: u?.state, inboxName: i?.name, leaseExpiresAt: await syncLeaseExpiry(db, c.id), oauthProvider: g?.provider ?? null });
}

const num = (v: number | string | null): number | null => (v === null ? null : Number(v));

function forwardingCheckView(c: ConnectionsTable) {
  const f = forwardingCheck(
    { address: c.address, forwardingAddress: c.forwarding_address, requestedAt: num(c.forwarding_test_requested_at), sentAt: num(c.forwarding_test_sent_at), verifiedAt: num(c.forwarding_verified_at), error: c.forwarding_test_error },
    Date.now(),
  );
  return { state: f.state, message: f.message, sentAt: iso(f.sentAt), verifiedAt: iso(f.verifiedAt) };
}

/**
 * The connections of an account, oldest first: team ones, and personal ones of `personalOf` (a user id)
 * or of everyone (`personalOf: 'everyone'`); filtered by type, user and inbox; disconnected ones on request.
 */
export async function listConnections(
  db: Executor,
  accountId: string,
  q: { personalOf: string | 'everyone'; type?: ConnectionsTable['type']; userId?: string; inboxId?: string; includeDisconnected: boolean },
): Promise<ConnectionView[]> {
  let query = db
    .selectFrom('connections')
    .innerJoin('users', 'users.id', 'connections.user_id')
    .leftJoin('inboxes', 'inboxes.id', 'connections.inbox_id')
    .leftJoin('leases', (j) => j.on(sql<boolean>`leases.name = ${'sync:'} || connections.id`))
    .leftJoin('oauth_grants', 'oauth_grants.connection_id', 'connections.id')
    .selectAll('connections')
    .select(['users.name as user_name', 'users.state as user_state', 'inboxes.name as inbox_name', 'leases.expires_at as lease_expires_at', 'oauth_grants.provider as oauth_provider'])
    .where('connections.account_id', '=', accountId);
  if (q.personalOf !== 'everyone') {
    const own = q.personalOf;
    query = query.where((eb) => eb.or([eb('connections.type', '=', 'team'), eb('connections.user_id', '=', own)]));
  }
  if (q.type) query = query.where('connections.type', '=', q.type);
  if (q.userId) query = query.where('connections.user_id', '=', q.userId);
  if (q.inboxId) query = query.where('connections.inbox_id', '=', q.inboxId);
  if (!q.includeDisconnected) query = query.where('connections.disconnected_at', 'is', null);
  const rows = await query.orderBy('connections.created_at').execute();
  return rows.map((r) =>
    connectionView(r, { userName: r.user_name, userState: r.user_state, inboxName: r.inbox_name, leaseExpiresAt: r.lease_expires_at === null ? null : Number(r.lease_expires_at), oauthProvider: r.oauth_provider }),
  );
}
