/**
 * A select whose shape never changes, compiled once per database handle and then run with new values: the
 * busiest reads of the API (the thread, a list's inbox, the contact search) skip Kysely's building and
 * compiling on every request. `build` gets a placeholder for each argument (`arg(i)`) and uses it where the
 * value goes.
 */
import type { Compilable, CompiledQuery } from 'kysely';
import type { Executor } from '../context.js';

export function compiledOnce<A extends unknown[], R>(name: string, build: (db: Executor, arg: (i: number) => any) => Compilable<R>) {
  const cache = new WeakMap<Executor, CompiledQuery<R>>();
  const mark = `\u0000${name}:`;
  return async (db: Executor, ...args: A): Promise<R[]> => {
    let c = cache.get(db);
    if (!c) {
      c = build(db, (i) => `${mark}${i}`).compile();
      cache.set(db, c);
    }
    const value = (v: unknown) => (typeof v === 'string' && v.startsWith(mark) ? args[Number(v.slice(mark.length))] : v);
    // (A list of values may reach PostgreSQL as one array parameter: ./pg-in-list.ts.)
    const parameters = c.parameters.map((v) => (Array.isArray(v) ? v.map(value) : value(v)));
    return (await db.executeQuery<R>({ ...c, parameters })).rows;
  };
}
