import type { Kysely } from 'kysely';

/**
 * Email templates and snippets (personal email tools): saved by a user, private to them or shared with
 * the account (admins share). A snippet's shortcut is unique per owner.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('email_templates')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull()) // template | snippet
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('html', 'text', (c) => c.notNull())
    .addColumn('shortcut', 'text')
    .addColumn('shared', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('email_templates_account_idx').on('email_templates').columns(['account_id', 'kind', 'name']).execute();
  await db.schema.createIndex('email_templates_shortcut_idx').on('email_templates').columns(['account_id', 'owner_user_id', 'shortcut']).unique().execute();
}
