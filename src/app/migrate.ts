/** Brings a database to the latest schema: the platform's migration runner over the app's list. */
import type { Database } from '../platform/database/database.js';
import { runMigrations, type MigrateResult } from '../platform/database/migrate.js';
import { MIGRATIONS } from './migrations/index.js';

export type { MigrateResult };

export function migrateToLatest(database: Database): Promise<MigrateResult> {
  return runMigrations(database, MIGRATIONS);
}
