import type { Kysely } from 'kysely';

/**
 * OAuth mailboxes (issue 14).
 *
 * `oauth_grants`: one per connection signed in with OAuth. The refresh token is sealed by the secret box
 * like mail passwords (the current access token lives sealed in `connections.credentials`, beside where
 * passwords are, so the IMAP and SMTP adapters read one place); `refresh_due_at` is when the worker
 * refreshes it (about 80% of its lifetime).
 *
 * `oauth_flows`: a connect in progress. Code flow: the `state` handed to the provider names the row (with
 * an HMAC binding it to the user), the PKCE verifier and nonce are sealed, and `used_at` makes it
 * single-use. Device flow: the sealed device code, the user code and link shown, and the polling interval.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('oauth_grants')
    .addColumn('connection_id', 'text', (c) => c.primaryKey().references('connections.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('issuer', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('scope', 'text')
    .addColumn('refresh_token', 'text')
    .addColumn('access_expires_at', 'bigint', (c) => c.notNull())
    .addColumn('refresh_due_at', 'bigint', (c) => c.notNull())
    .addColumn('transient_failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('refreshed_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oauth_grants_due_idx').on('oauth_grants').column('refresh_due_at').execute();

  await db.schema
    .createTable('oauth_flows')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('user_id', 'text', (c) => c.notNull().references('users.id'))
    .addColumn('provider', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('request', 'text', (c) => c.notNull())
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('user_code', 'text')
    .addColumn('verification_uri', 'text')
    .addColumn('verification_uri_complete', 'text')
    .addColumn('interval_ms', 'integer')
    .addColumn('next_poll_at', 'bigint')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text')
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('used_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('oauth_flows_user_idx').on('oauth_flows').columns(['account_id', 'user_id']).execute();
}
