/**
 * Load benchmarks run once on SQLite and once on PostgreSQL. Test databases (test/support/db.ts) pick
 * PostgreSQL when DATABASE_URL is set when they are created, so a benchmark sets it around its run:
 * BENCH_DATABASE_URL, else DATABASE_URL, else the local server (postgres://postgres@127.0.0.1/test).
 */
import pg from 'pg';

export type DbKind = 'sqlite' | 'postgres';

export const benchPgUrl = (): string => process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1/test';

/** Which databases to run on: BENCH_DATABASES=sqlite,postgres (default both). */
export function benchDatabases(): DbKind[] {
  const list = (process.env.BENCH_DATABASES ?? 'sqlite,postgres').split(',').map((s) => s.trim()).filter(Boolean);
  return list.filter((d): d is DbKind => d === 'sqlite' || d === 'postgres');
}

/** null when PostgreSQL answers, else why not (the benchmark reports that row as not run). */
export async function pgUnavailable(): Promise<string | null> {
  const client = new pg.Client({ connectionString: benchPgUrl(), connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    return null;
  } catch (err) {
    return (err as Error).message;
  } finally {
    await client.end().catch(() => {});
  }
}

/** Runs fn with DATABASE_URL set for `kind` (unset for SQLite), restoring it afterwards. */
export async function onDatabase<T>(kind: DbKind, fn: () => Promise<T>): Promise<T> {
  const saved = process.env.DATABASE_URL;
  if (kind === 'postgres') process.env.DATABASE_URL = benchPgUrl();
  else delete process.env.DATABASE_URL;
  try {
    return await fn();
  } finally {
    if (saved === undefined) delete process.env.DATABASE_URL;
    else process.env.DATABASE_URL = saved;
  }
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i]!;
}

/** The middle value (the upper one of an even count). */
export const median = (xs: readonly number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
export const round1 = (x: number) => Math.round(x * 10) / 10;
export const round2 = (x: number) => Math.round(x * 100) / 100;
