import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.js';
import * as m001 from './migrations/001-platform.js';
import * as m002 from './migrations/002-crm.js';
import * as m003 from './migrations/003-connections.js';
import * as m004 from './migrations/004-mail.js';
import * as m005 from './migrations/005-inbox.js';
import * as m006 from './migrations/006-personal.js';
import * as m007 from './migrations/007-templates.js';
import * as m008 from './migrations/008-notification-email.js';
import * as m009 from './migrations/009-forwarding-check.js';
import * as m010 from './migrations/010-packed-blobs.js';
import * as m011 from './migrations/011-listening.js';

/** Migrations are listed here in order (no directory scanning: works the same under tsx and bundlers). */
const MIGRATIONS: Record<string, Migration> = {
  '001-platform': m001,
  '002-crm': m002,
  '003-connections': m003,
  '004-mail': m004,
  '005-inbox': m005,
  '006-personal': m006,
  '007-templates': m007,
  '008-notification-email': m008,
  '009-forwarding-check': m009,
  '010-packed-blobs': m010,
  '011-listening': m011,
};

class ListedMigrations implements MigrationProvider {
  async getMigrations(): Promise<Record<string, Migration>> {
    return MIGRATIONS;
  }
}

export interface MigrateResult {
  applied: string[];
}

export async function migrateToLatest(database: Database): Promise<MigrateResult> {
  // Kysely checks whether its own tables exist by name across ALL schemas unless told which schema to
  // look in: on PostgreSQL, another schema's kysely_migration_lock (a parallel test database) would make
  // it skip creating ours. Name the schema the connection uses.
  const migrationTableSchema =
    database.dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]?.s : undefined;
  const migrator = new Migrator({ db: database.db, provider: new ListedMigrations(), ...(migrationTableSchema ? { migrationTableSchema } : {}) });
  let { error, results } = await migrator.migrateToLatest();
  // Kysely looks for its tables through the catalog of every schema; on PostgreSQL another schema being
  // created or dropped at that moment (parallel test databases, or a neighbour's cleanup) can fail that
  // look-up before any migration ran ('schema "x" does not exist', 'column "account_id" of relation
  // "notifications" does not exist', seen in CI). Nothing was changed then (no migration result): try again.
  for (let attempt = 1; attempt <= 5 && error && !results?.length && database.dialect === 'postgres'; attempt++) {
    await new Promise((r) => setTimeout(r, 200 * attempt));
    ({ error, results } = await migrator.migrateToLatest());
  }
  if (error) {
    const failed = results?.find((r) => r.status === 'Error');
    throw new Error(`Database migration ${failed?.migrationName ?? ''} failed: ${(error as Error).message ?? String(error)}`);
  }
  return { applied: (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName) };
}
