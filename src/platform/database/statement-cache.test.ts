import { describe, expect, it } from 'vitest';
import SQLite from 'better-sqlite3';
import { cachingSqlite } from './statement-cache.js';

describe('cachingSqlite', () => {
  it('hands out the same statement for the same SQL, and evicts the least recently used', () => {
    const db = cachingSqlite(new SQLite(':memory:'), 2);
    const a = db.prepare('select 1 as x');
    expect(db.prepare('select 1 as x')).toBe(a);
    const b = db.prepare('select 2 as x');
    db.prepare('select 1 as x'); // a is now the most recent
    db.prepare('select 3 as x'); // evicts b
    expect(db.cached()).toBe(2);
    expect(db.prepare('select 1 as x')).toBe(a);
    expect(db.prepare('select 2 as x')).not.toBe(b);
    db.close();
  });

  it('never hands out a statement that is still being iterated', () => {
    const db = cachingSqlite(new SQLite(':memory:'));
    const sql = 'select value from json_each(?)';
    const outer = db.prepare(sql).iterate(['[1,2,3]']) as IterableIterator<{ value: number }>;
    const first = outer.next().value as { value: number };
    // The same SQL while the first is mid-iteration: a fresh statement, not an error.
    expect(db.prepare(sql).all(['[7]'])).toEqual([{ value: 7 }]);
    expect([first.value, ...[...outer].map((r) => r.value)]).toEqual([1, 2, 3]);
    db.close();
  });
});
