/**
 * The one test factory for rows no command can create in a test (a connection without live mail servers). Defaults come from the product where it has them
 * (NEW_CONNECTION_COLUMNS); everything else a test needs goes through the commands and the API.
 */
import type { TestApp } from './app.js';
import { newId } from '../../src/platform/database/ids.js';
import { NEW_CONNECTION_COLUMNS } from '../../src/features/connections/index.js';
import type { ConnectionsTable } from '../../src/platform/database/schema.js';

/**
 * Inserts a connection row directly, for engine tests that are about mail flow rather than the connect
 * flow (which is tested end to end in test/connections). Credentials are sealed like the real thing.
 */
export async function insertConnection(
  t: { database: Pick<TestApp['database'], 'db'>; env: Pick<TestApp['env'], 'secrets'> },
  o: {
    accountId: string;
    userId: string;
    type: 'personal' | 'team';
    address: string;
    inboxId?: string;
    transport?: 'imap' | 'forwarding';
    imap?: { host: string; port: number; username: string; password: string };
    smtp?: { host: string; port: number; username: string; password: string };
    folders?: string[];
    sentFolder?: string | null;
    syncWindowDays?: number | null;
    /** Columns to set otherwise (e.g. a state, a fixed id, sealed-less credentials). */
    overrides?: Partial<ConnectionsTable>;
  },
) {
  const now = Date.now();
  const id = newId('con');
  const transport = o.transport ?? (o.imap ? 'imap' : 'forwarding');
  const row: ConnectionsTable = {
    ...NEW_CONNECTION_COLUMNS,
    id,
    account_id: o.accountId,
    type: o.type,
    address: o.address,
    address_key: o.address.toLowerCase(),
    user_id: o.userId,
    inbox_id: o.inboxId ?? null,
    transport,
    state: transport === 'imap' ? 'syncing' : 'active',
    stage: null,
    stage_started_at: null,
    failure_count: 0,
    last_error_code: null,
    last_error_message: null,
    last_error_at: null,
    imap_host: o.imap?.host ?? null,
    imap_port: o.imap?.port ?? null,
    imap_tls: o.imap ? 'none' : null,
    imap_username: o.imap?.username ?? null,
    smtp_host: o.smtp?.host ?? null,
    smtp_port: o.smtp?.port ?? null,
    smtp_tls: o.smtp ? 'none' : null,
    smtp_username: o.smtp?.username ?? null,
    credentials: t.env.secrets.seal(JSON.stringify({ imapPassword: o.imap?.password ?? null, smtpPassword: o.smtp?.password ?? null })),
    sent_folder: o.sentFolder ?? null,
    folders: JSON.stringify(o.folders ?? ['INBOX']),
    sync_window_days: o.syncWindowDays === undefined ? 90 : o.syncWindowDays,
    is_default_from: o.type === 'personal' ? 1 : 0,
    use_for_meetings: 0,
    forwarding_address: transport === 'forwarding' ? `fwd-${id.slice(-8).toLowerCase()}@inbound.test` : null,
    sender_name_mode: o.type === 'team' ? 'agent_at_inbox' : null,
    created_at: now,
    updated_at: now,
    disconnected_at: null,
    disconnected_by: null,
    ...o.overrides,
  };
  await t.database.db.insertInto('connections').values(row).execute();
  return row;
}

