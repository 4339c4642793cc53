import { describe, expect, it } from 'vitest';
import { Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler, DummyDriver, sql } from 'kysely';
import { PostgresInListAsArray } from './pg-in-list.js';

// Compiles only (no server): the statement text and parameters PostgreSQL would get.
const db = new Kysely<any>({
  dialect: { createAdapter: () => new PostgresAdapter(), createDriver: () => new DummyDriver(), createIntrospector: (k) => new PostgresIntrospector(k), createQueryCompiler: () => new PostgresQueryCompiler() },
  plugins: [new PostgresInListAsArray()],
});

describe('PostgreSQL IN lists as one array', () => {
  it.each([
    ['strings', db.selectFrom('t').select('a').where('a', 'in', ['x', 'y', 'z']), 'select "a" from "t" where "a" = any($1)', [['x', 'y', 'z']]],
    ['numbers, beside other conditions', db.selectFrom('t').select('a').where('b', '=', 1).where('n', 'in', [1, 2]), 'select "a" from "t" where "b" = $1 and "n" = any($2)', [1, [1, 2]]],
    ['a list of one stays', db.selectFrom('t').select('a').where('a', 'in', ['x']), 'select "a" from "t" where "a" in ($1)', ['x']],
    ['mixed types stay', db.selectFrom('t').select('a').where('a', 'in', ['x', 1]), 'select "a" from "t" where "a" in ($1, $2)', ['x', 1]],
    ['nulls stay', db.selectFrom('t').select('a').where('a', 'in', ['x', null]), 'select "a" from "t" where "a" in ($1, $2)', ['x', null]],
    ['not in stays', db.selectFrom('t').select('a').where('a', 'not in', ['x', 'y']), 'select "a" from "t" where "a" not in ($1, $2)', ['x', 'y']],
    ['subqueries stay', db.selectFrom('t').select('a').where('a', 'in', db.selectFrom('u').select('b')), 'select "a" from "t" where "a" in (select "b" from "u")', []],
    ['in a delete', db.deleteFrom('t').where('id', 'in', ['1', '2']), 'delete from "t" where "id" = any($1)', [['1', '2']]],
    ['the same text for every length', db.selectFrom('t').select('a').where('a', 'in', Array.from({ length: 40 }, (_, i) => `v${i}`)), 'select "a" from "t" where "a" = any($1)', [Array.from({ length: 40 }, (_, i) => `v${i}`)]],
    ['raw sql untouched', db.selectFrom('t').select('a').where(sql<boolean>`a in (${'x'}, ${'y'})`), 'select "a" from "t" where a in ($1, $2)', ['x', 'y']],
  ])('%s', (_name, q, text, params) => {
    const c = q.compile();
    expect(c.sql).toBe(text);
    expect(c.parameters).toEqual(params);
  });
});
