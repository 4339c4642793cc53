/**
 * PostgreSQL: every data statement (select, insert, update, delete, with) runs as a named prepared
 * statement of its connection, so PostgreSQL parses and analyses it once per connection instead of on
 * every call, and after a few calls may reuse a generic plan (its `plan_cache_mode`). Measured here on
 * the inbox list (50 conversations with assignee, contact, SLA and snippet): planning took about 1 ms of
 * a 1.4 ms statement; the API makes the same few statements over and over.
 *
 * Bounded: each connection keeps at most `maxPerConnection` statements, least recently used first out
 * (DEALLOCATE). Texts longer than `maxTextLength` (large multi-row inserts, whose text changes with the
 * row count) run unnamed as before.
 *
 * A statement that starts with `UNPREPARED` (a comment) runs unnamed, planned for its parameters on every
 * call: for statements whose best plan changes as a table grows from nothing (a queue's claim), where a
 * plan cached while the table was small would walk it whole for each row once it has grown.
 *
 * A schema change made by another process (a migration adding a column under a prepared `select *`)
 * makes PostgreSQL refuse the old statement once ("cached plan must not change result type", 0A000):
 * the statement is forgotten on that connection and, outside a transaction, run again unnamed.
 */
import type pg from 'pg';

export const preparedSettings = {
  maxPerConnection: 256,
  maxTextLength: 8 * 1024,
};

const DATA_STATEMENT = /^\s*(select|insert|update|delete|with)\b/i;

/** Put before a statement's text to keep it from being prepared (see the header). */
export const UNPREPARED = '/* unprepared */ ';

interface Prepared {
  /** Statement text → name, least recently used first. */
  names: Map<string, string>;
  next: number;
}

type QueryFn = (config: unknown, values?: unknown, callback?: unknown) => unknown;

/** Installs the naming on every new client of the pool. */
export function prepareStatements(pool: pg.Pool): void {
  pool.on('connect', (client) => prepareClient(client));
}

/** Makes a client name its data statements (see the header). Exported for tests. */
export function prepareClient(client: pg.PoolClient | pg.Client): void {
  const state: Prepared = { names: new Map(), next: 0 };
  const original = client.query.bind(client) as QueryFn;
  const connection = (client as unknown as { connection?: { parsedStatements?: Record<string, string> } }).connection;
  const forget = (text: string) => {
    const name = state.names.get(text);
    if (name === undefined) return;
    state.names.delete(text);
    if (connection?.parsedStatements) delete connection.parsedStatements[name];
    // Not transactional, and harmless if the statement was never parsed: errors are of no interest.
    (original(`DEALLOCATE "${name}"`) as Promise<unknown>).catch(() => undefined);
  };
  const patched: QueryFn = (config, values, callback) => {
    if (typeof config !== 'string' || callback !== undefined || (values !== undefined && !Array.isArray(values))) return original(config, values, callback);
    if (config.length > preparedSettings.maxTextLength || !DATA_STATEMENT.test(config)) return original(config, values);
    let name = state.names.get(config);
    if (name !== undefined) {
      state.names.delete(config);
      state.names.set(config, name);
    } else {
      if (state.names.size >= preparedSettings.maxPerConnection) forget(state.names.keys().next().value!);
      name = `mr_${(state.next++).toString(36)}`;
      state.names.set(config, name);
    }
    const text = config;
    return (original({ name, text, values: values ?? [] }) as Promise<unknown>).catch((err: { code?: string; message?: string }) => {
      if (err?.code === '0A000' && /cached plan/i.test(err.message ?? '')) {
        forget(text);
        if (!inTransaction(client)) return original(text, values);
      }
      throw err;
    });
  };
  (client as unknown as { query: QueryFn }).query = patched;
}

/** Whether the client is inside a transaction block, as the server last said (ReadyForQuery status). */
function inTransaction(client: unknown): boolean {
  const status = (client as { _txStatus?: string })._txStatus;
  return status === 'T' || status === 'E';
}
