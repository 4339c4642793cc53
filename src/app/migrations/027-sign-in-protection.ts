import { sql, type Kysely } from 'kysely';

/**
 * Two changes of issue 14 and issue 21:
 *
 * 1. OAuth connections whose provider refused the refresh token were kept in `auth_failed` with
 *    `last_error_code = 'oauth_reauth_required'`; they now have their own state, `needs_reauth`
 *    (connections.state has no check constraint: the lifecycle's transition table is the guard).
 * 2. Sign-in protection across clients and processes: one row per address (the comparison key of
 *    sign-in) counting consecutive failed sign-ins, from any client and any IP, until a success resets it.
 *    `locked_until` is the temporary lock's end; `notified_lock_at` the lock the owner was told about
 *    (once per lock).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`update connections set state = 'needs_reauth' where state = 'auth_failed' and last_error_code = 'oauth_reauth_required'`.execute(db);
  await db.schema
    .createTable('sign_in_failures')
    .addColumn('email_key', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('first_failed_at', 'bigint', (c) => c.notNull())
    .addColumn('last_failed_at', 'bigint', (c) => c.notNull())
    .addColumn('next_allowed_at', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'bigint')
    .addColumn('notified_lock_at', 'bigint')
    .execute();
  // Rows nobody tried for a day are deleted on the next failure (sign-in-failures.ts).
  await db.schema.createIndex('sign_in_failures_last_failed_idx').on('sign_in_failures').column('last_failed_at').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('sign_in_failures').ifExists().execute();
  await sql`update connections set state = 'auth_failed' where state = 'needs_reauth'`.execute(db);
}
