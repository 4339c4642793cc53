import type { Kysely } from 'kysely';

/**
 * Email sequences (issue 15): sequence definitions (versioned; an enrollment freezes the version it
 * started with), enrollments (one active or paused per contact, by the partial-unique `active_contact_id`),
 * the step ledger (one row per (enrollment, step): what makes a step run once), the history of each
 * enrollment, and the addresses that may not be enrolled again (unsubscribed).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('sequences')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('owner_user_id', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('archived_at', 'bigint')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sequences_account_idx').on('sequences').columns(['account_id', 'name']).execute();

  await db.schema
    .createTable('sequence_enrollments')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('sequence_id', 'text', (c) => c.notNull())
    .addColumn('sequence_version', 'integer', (c) => c.notNull())
    .addColumn('definition', 'text', (c) => c.notNull())
    .addColumn('contact_id', 'text', (c) => c.notNull())
    .addColumn('active_contact_id', 'text')
    .addColumn('contact_email', 'text', (c) => c.notNull())
    .addColumn('email_domain', 'text')
    .addColumn('company_id', 'text')
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('connection_id', 'text', (c) => c.notNull())
    .addColumn('time_zone', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('step_index', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_due_at', 'bigint')
    .addColumn('last_due_at', 'bigint', (c) => c.notNull())
    .addColumn('thread', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('enrolled_at', 'bigint', (c) => c.notNull())
    .addColumn('ended_at', 'bigint')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sequence_enrollments_active_contact_uq').on('sequence_enrollments').columns(['account_id', 'active_contact_id']).unique().execute();
  // Due-step selection reads only active rows that are due: the work grows with due steps, not enrollments.
  await db.schema.createIndex('sequence_enrollments_due_idx').on('sequence_enrollments').columns(['state', 'next_due_at']).execute();
  await db.schema.createIndex('sequence_enrollments_contact_idx').on('sequence_enrollments').columns(['account_id', 'contact_id']).execute();
  await db.schema.createIndex('sequence_enrollments_sequence_idx').on('sequence_enrollments').columns(['sequence_id', 'enrolled_at']).execute();
  await db.schema.createIndex('sequence_enrollments_company_idx').on('sequence_enrollments').columns(['account_id', 'company_id']).execute();
  await db.schema.createIndex('sequence_enrollments_domain_idx').on('sequence_enrollments').columns(['account_id', 'email_domain']).execute();

  await db.schema
    .createTable('sequence_steps_run')
    .addColumn('enrollment_id', 'text', (c) => c.notNull())
    .addColumn('step_index', 'integer', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('user_id', 'text', (c) => c.notNull())
    .addColumn('step_id', 'text', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('variant', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('outbox_id', 'text')
    .addColumn('message_id', 'text')
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('due_at', 'bigint', (c) => c.notNull())
    .addColumn('ran_at', 'bigint', (c) => c.notNull())
    .addColumn('done_at', 'bigint')
    .addPrimaryKeyConstraint('sequence_steps_run_pk', ['enrollment_id', 'step_index'])
    .execute();
  await db.schema.createIndex('sequence_steps_run_tasks_idx').on('sequence_steps_run').columns(['user_id', 'state', 'due_at']).execute();
  await db.schema.createIndex('sequence_steps_run_outbox_idx').on('sequence_steps_run').columns(['outbox_id']).execute();

  await db.schema
    .createTable('sequence_history')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('enrollment_id', 'text', (c) => c.notNull())
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('reason', 'text')
    .addColumn('data', 'text', (c) => c.notNull().defaultTo('{}'))
    .addColumn('at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sequence_history_enrollment_idx').on('sequence_history').columns(['enrollment_id', 'at']).execute();

  await db.schema
    .createTable('sequence_suppressions')
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('email_key', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('enrollment_id', 'text')
    .addColumn('at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('sequence_suppressions_pk', ['account_id', 'email_key'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const t of ['sequence_suppressions', 'sequence_history', 'sequence_steps_run', 'sequence_enrollments', 'sequences']) await db.schema.dropTable(t).execute();
}
