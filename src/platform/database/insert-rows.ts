/**
 * Multi-row INSERT for the ingest hot path. Kysely builds a node per value and compiles the tree on
 * every call: for a batch of 250 messages of 33 columns that is ~8,000 nodes, most of the query cost.
 * Here the SQL text is built directly from the column names of our own row objects, with the dialect's
 * placeholders, and the values are bound as parameters (the same statement text for the same row count,
 * so SQLite's statement cache reuses it). Column and table names come from our code, never from input.
 */
import { CompiledQuery } from 'kysely';
import type { Executor } from '../context.js';
import type { Dialect } from './database.js';
import type { DB } from './schema.js';

type Value = string | number | bigint | null | Buffer | Uint8Array;

/** Rows per statement: at 40 columns, 8,000 parameters (SQLite allows 32,766, PostgreSQL 65,535). */
const ROWS_PER_STATEMENT = 200;
const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

export async function insertRows<T extends keyof DB & string>(
  db: Executor,
  dialect: Dialect,
  table: T,
  rows: ReadonlyArray<{ [K in keyof DB[T]]: DB[T][K] }>,
  /** Raw SQL after VALUES, e.g. `on conflict ("sha256") do nothing` (our text only). */
  onConflict = '',
): Promise<void> {
  if (rows.length === 0) return;
  const columns = Object.keys(rows[0]!);
  for (const name of [table, ...columns]) if (!IDENTIFIER.test(name)) throw new Error(`insertRows: not an identifier: ${name}`);
  const head = `insert into "${table}" (${columns.map((c) => `"${c}"`).join(', ')}) values `;
  for (let at = 0; at < rows.length; at += ROWS_PER_STATEMENT) {
    const part = rows.slice(at, at + ROWS_PER_STATEMENT);
    const params: Value[] = [];
    const tuples: string[] = [];
    for (const row of part) {
      const r = row as Record<string, Value>;
      if (Object.keys(r).length !== columns.length) throw new Error(`insertRows: the rows of ${table} do not all have the same columns`);
      const marks: string[] = [];
      for (const c of columns) {
        if (!(c in r)) throw new Error(`insertRows: a row of ${table} has no ${c}`);
        params.push(r[c] === undefined ? null : r[c]!);
        marks.push(dialect === 'postgres' ? `$${params.length}` : '?');
      }
      tuples.push(`(${marks.join(', ')})`);
    }
    await db.executeQuery(CompiledQuery.raw(`${head}${tuples.join(', ')}${onConflict ? ` ${onConflict}` : ''}`, params));
  }
}
