import type { Kysely, Transaction } from 'kysely';
import type { DB } from '../../store/schema.js';
import type { Dialect } from '../../store/database.js';
import type { UsersTable } from '../../store/schema.js';

export type Executor = Kysely<DB> | Transaction<DB>;

/** What every command receives: the database, the clock, and who is acting. */
export interface CommandEnv {
  db: Kysely<DB>;
  dialect: Dialect;
  now: () => number;
}

export type UserRow = UsersTable;

/** The authenticated user performing a command, always scoped to their account. */
export interface Actor {
  user: UserRow;
  accountId: string;
  plan: string;
}

export const systemClock = () => Date.now();
