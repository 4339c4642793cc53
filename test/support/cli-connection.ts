/**
 * A DATA_DIR's embedded database prepared for a CLI run (`mailroom import` in the compiled-start test and
 * the notmuch bench): migrated, with an account, a team inbox and a forwarding connection, written
 * directly (connecting through the CLI would check SMTP servers live).
 */
import { openDatabase } from '../../src/platform/database/database.js';
import { migrateToLatest } from '../../src/app/migrate.js';
import { loadConfig } from '../../src/app/config.js';
import { makeCommandEnv } from '../../src/app/env.js';
import { createAccount } from '../../src/features/accounts/commands/createAccount.js';
import { newId } from '../../src/platform/database/ids.js';

export async function withDatabase<T>(env: NodeJS.ProcessEnv, fn: (e: Awaited<ReturnType<typeof makeCommandEnv>>) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database);
    return await fn(await makeCommandEnv(database, config));
  } finally {
    await database.close();
  }
}

/** An account with a team inbox and a forwarding connection in the DATA_DIR's database; its id. */
export function prepareConnection(env: NodeJS.ProcessEnv): Promise<string> {
  return withDatabase(env, async (e) => {
    const acc = await createAccount(e, { name: 'Bench', plan: 'enterprise', adminEmail: 'bench@example.org', adminPassword: 'bench-password' });
    const now = Date.now();
    const inboxId = newId('inb');
    await e.db.insertInto('inboxes').values({ id: inboxId, account_id: acc.accountId, name: 'Corpus', access: 'everyone', settings: '{}', created_at: now, deleted_at: null }).execute();
    const id = newId('con');
    await e.db
      .insertInto('connections')
      .values({
        id, account_id: acc.accountId, type: 'team', address: 'corpus@example.org', address_key: 'corpus@example.org', user_id: acc.adminUserId,
        inbox_id: inboxId, transport: 'forwarding', state: 'active', stage: null, stage_started_at: null, progress_done: 0, progress_total: null, failure_count: 0,
        last_error_code: null, last_error_message: null, last_error_at: null, imap_host: null, imap_port: null, imap_tls: null, imap_username: null, smtp_host: null,
        smtp_port: null, smtp_tls: null, smtp_username: null, credentials: null, sent_folder: null, folders: '[]', sync_window_days: null, is_default_from: 0,
        use_for_meetings: 0, forwarding_address: 'corpus-bench@example.org', sender_name_mode: 'inbox', sender_name_custom: null, signature: null,
        send_limit_day: null, send_limit_minute: null, forwarding_test_token: null, forwarding_test_requested_at: null, forwarding_test_sent_at: null, forwarding_test_error: null, forwarding_verified_at: null, created_at: now, updated_at: now, disconnected_at: null, disconnected_by: null,
      })
      .execute();
    return id;
  });
}

