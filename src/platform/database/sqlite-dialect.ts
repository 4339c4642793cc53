/**
 * Kysely's SQLite dialect, with write transactions that begin IMMEDIATE.
 *
 * Kysely begins every transaction with a plain `begin`, which SQLite runs DEFERRED: the transaction
 * reads from a snapshot and asks for the write lock only at its first write. When another process (the
 * server beside a `mailroom` CLI command, or a second worker) commits in between, the upgrade fails at
 * once with SQLITE_BUSY_SNAPSHOT ("database is locked"); the busy timeout cannot help, since the
 * snapshot is already stale. `begin immediate` takes the write lock first, waiting up to the busy
 * timeout for it, so the transaction's reads and writes see one state and never fail that way.
 *
 * Every transaction in Mailroom writes (they exist to make several writes atomic), so nothing depends
 * on deferred transactions; within a process Kysely's one SQLite connection serialises transactions
 * anyway, so IMMEDIATE only changes how processes queue for the lock. Statements outside a
 * transaction (reads, and single autocommit writes, which SQLite retries under the busy timeout) are
 * unchanged.
 */
import { CompiledQuery, SqliteDialect, SqliteDriver, type DatabaseConnection, type Driver, type SqliteDialectConfig } from 'kysely';

/** The statement a write transaction begins with on SQLite. */
export const BEGIN_SQLITE_TRANSACTION = 'begin immediate';

class ImmediateTransactionSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw(BEGIN_SQLITE_TRANSACTION));
  }
}

export class ImmediateTransactionSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;

  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }

  override createDriver(): Driver {
    return new ImmediateTransactionSqliteDriver(this.#config);
  }
}
