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

describe('cachingSqlite rows', () => {
  const plain = new SQLite(':memory:');
  const setup = (c: SQLite.Database) => {
    c.exec(`create table t (id integer primary key, name text, n integer, r real, b blob, j text)`);
    c.prepare('insert into t values (?, ?, ?, ?, ?, ?)').run(1, 'a', 9007199254740993n, 1.5, Buffer.from([0, 1]), '["x"]');
    c.prepare('insert into t values (?, ?, ?, ?, ?, ?)').run(2, null, null, null, null, null);
  };
  setup(plain);

  it('are the objects better-sqlite3 gives: keys in order, a repeated name keeping its last value, same values', () => {
    const conn = new SQLite(':memory:');
    setup(conn);
    const db = cachingSqlite(conn);
    for (const text of [
      'select * from t order by id',
      'select id, name as x, n as x, r, b as id from t order by id',
      'select 1 as "a""b", \'é\' as "ü", null as "__proto__x"',
      'select * from t where id > 5',
    ]) {
      const ours = db.prepare(text).all([]);
      const theirs = plain.prepare(text).all();
      expect(ours).toEqual(theirs);
      expect(ours.map((r) => Object.keys(r as object))).toEqual(theirs.map((r) => Object.keys(r as object)));
      expect(ours.map((r) => Object.getPrototypeOf(r))).toEqual(theirs.map((r) => Object.getPrototypeOf(r)));
      // Twice: the second call reuses the statement and its row builder.
      expect(db.prepare(text).all([])).toEqual(theirs);
    }
    db.close();
  });

  it('keeps better-sqlite3 rows for a column named __proto__, and objects for streamed rows', () => {
    const conn = new SQLite(':memory:');
    setup(conn);
    const db = cachingSqlite(conn);
    const rows = db.prepare('select 1 as "__proto__", 2 as y').all([]) as Array<Record<string, unknown>>;
    expect(rows).toEqual(plain.prepare('select 1 as "__proto__", 2 as y').all());
    const stmt = db.prepare('select id, name from t order by id');
    expect(stmt.all([])).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: null },
    ]);
    expect([...stmt.iterate([])]).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: null },
    ]);
    expect(stmt.all([])).toEqual([
      { id: 1, name: 'a' },
      { id: 2, name: null },
    ]);
    db.close();
  });

  it('reads the column names again when a schema change adds or drops a column under a prepared select *', () => {
    const conn = new SQLite(':memory:');
    setup(conn);
    const db = cachingSqlite(conn);
    const text = 'select * from t where id = 1';
    expect(Object.keys(db.prepare(text).all([])[0] as object)).toEqual(['id', 'name', 'n', 'r', 'b', 'j']);
    conn.exec("alter table t add column extra text default 'e'");
    expect(db.prepare(text).all([])).toEqual([{ id: 1, name: 'a', n: 9007199254740992, r: 1.5, b: Buffer.from([0, 1]), j: '["x"]', extra: 'e' }]);
    conn.exec('alter table t drop column name');
    expect(Object.keys(db.prepare(text).all([])[0] as object)).toEqual(['id', 'n', 'r', 'b', 'j', 'extra']);
    db.close();
  });

  it('runs writes and returning statements', () => {
    const conn = new SQLite(':memory:');
    setup(conn);
    const db = cachingSqlite(conn);
    expect(db.prepare('update t set name = ? where id = ?').run(['z', 2])).toMatchObject({ changes: 1 });
    expect(db.prepare('insert into t (id, name) values (?, ?) returning id, name').all([3, 'c'])).toEqual([{ id: 3, name: 'c' }]);
    db.close();
  });
});
