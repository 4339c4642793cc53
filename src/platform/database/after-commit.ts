/**
 * Work to do once a transaction has committed (and never if it rolls back): publishing live updates of
 * what a hook changed inside someone else's transaction. A transaction opened with `transaction()` runs
 * what was registered on it, in order, right after its commit; `onCommit` on any other transaction (or
 * on the database itself) answers false, and the caller falls back to finding out another way.
 */
import type { Kysely, Transaction } from 'kysely';
import type { DB } from './schema.js';

const registries = new WeakMap<object, Array<() => void>>();

/** `db.transaction().execute(fn)`, then what was registered on the transaction with `onCommit`. */
export async function transaction<T>(db: Kysely<DB>, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
  const callbacks: Array<() => void> = [];
  const result = await db.transaction().execute((trx) => {
    registries.set(trx, callbacks);
    return fn(trx);
  });
  for (const cb of callbacks) {
    try {
      cb();
    } catch {
      // after-commit work is best effort (live updates): the committed change stands
    }
  }
  return result;
}

/** Runs `fn` after `trx` commits; false when `trx` was not opened by `transaction()` (nothing registered). */
export function onCommit(trx: object, fn: () => void): boolean {
  const callbacks = registries.get(trx);
  if (!callbacks) return false;
  callbacks.push(fn);
  return true;
}
