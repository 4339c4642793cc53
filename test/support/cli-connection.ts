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
import { insertConnection } from './factory.js';

type OpenDatabase = Awaited<ReturnType<typeof openDatabase>>;

export async function withDatabase<T>(env: NodeJS.ProcessEnv, fn: (e: Awaited<ReturnType<typeof makeCommandEnv>>, database: OpenDatabase) => Promise<T>): Promise<T> {
  const config = loadConfig(env);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    await migrateToLatest(database);
    return await fn(await makeCommandEnv(database, config), database);
  } finally {
    await database.close();
  }
}

/** An account with a team inbox and a forwarding connection in the DATA_DIR's database; its id. */
export function prepareConnection(env: NodeJS.ProcessEnv): Promise<string> {
  return withDatabase(env, async (e, database) => {
    const acc = await createAccount(e, { name: 'Bench', plan: 'enterprise', adminEmail: 'bench@example.org', adminPassword: 'bench-password' });
    const inboxId = newId('inb');
    await e.db.insertInto('inboxes').values({ id: inboxId, account_id: acc.accountId, name: 'Corpus', access: 'everyone', settings: '{}', created_at: Date.now(), deleted_at: null }).execute();
    const row = await insertConnection({ database, env: e }, { accountId: acc.accountId, userId: acc.adminUserId, type: 'team', address: 'corpus@example.org', inboxId, transport: 'forwarding' });
    return row.id;
  });
}
