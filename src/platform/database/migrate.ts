import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Database } from './database.js';
class ListedMigrations implements MigrationProvider {
  constructor(private readonly migrations: Record<string, Migration>) {}
  async getMigrations(): Promise<Record<string, Migration>> {
    return this.migrations;
  }
}

export interface MigrateResult {
  applied: string[];
}

/**
 * Applies the given migrations (in key order) that have not run yet. The list itself lives in
 * src/app/migrations: the schema's history spans every feature, and some data migrations use a feature's
 * pure rules, which the platform may not import.
 */
export async function runMigrations(database: Database, migrations: Record<string, Migration>): Promise<MigrateResult> {
  // Kysely checks whether its own tables exist by name across ALL schemas unless told which schema to
  // look in: on PostgreSQL, another schema's kysely_migration_lock (a parallel test database) would make
  // it skip creating ours. Name the schema the connection uses.
  const migrationTableSchema =
    database.dialect === 'postgres' ? (await sql<{ s: string }>`select current_schema() as s`.execute(database.db)).rows[0]?.s : undefined;
  if (await upToDate(database, migrations, migrationTableSchema)) return { applied: [] };
  const migrator = new Migrator({ db: database.db, provider: new ListedMigrations(migrations), ...(migrationTableSchema ? { migrationTableSchema } : {}) });
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

/**
 * True when the database has run exactly these migrations: one read, where Kysely's migrator takes a lock,
 * looks its tables up in the catalogue and sorts names by locale (most of the start-up of a one-shot
 * command such as `mailroom import`, issue 18). Anything else (no table yet, a migration to run, one the
 * list does not know) is the migrator's to handle.
 */
async function upToDate(database: Database, migrations: Record<string, Migration>, schema: string | undefined): Promise<boolean> {
  try {
    const table = schema ? sql`${sql.id(schema)}.kysely_migration` : sql`kysely_migration`;
    const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(database.db);
    const done = new Set(rows.map((r) => r.name));
    const wanted = Object.keys(migrations);
    return done.size === wanted.length && wanted.every((n) => done.has(n));
  } catch {
    return false;
  }
}
