import { describe, expect, it } from 'vitest';
import { json, JsonColumnError, readJson, shapes, writeJson } from './json.js';

describe('readJson', () => {
  it('returns the value when it has the shape', () => {
    expect(readJson('c.folders', '["INBOX","Sent"]', json.stringArray)).toEqual(['INBOX', 'Sent']);
    expect(readJson('m.to', '[{"address":"a@x.test","name":"A"},{"address":"b@x.test"}]', shapes.mailboxes)).toEqual([{ address: 'a@x.test', name: 'A' }, { address: 'b@x.test' }]);
    expect(readJson('o.e', '{"from":"a@x.test","to":["b@x.test"],"extra":1}', json.object({ from: json.string, to: json.stringArray }))).toEqual({ from: 'a@x.test', to: ['b@x.test'], extra: 1 });
  });

  it.each([
    ['not JSON', '{oops', /c\.x holds text that is not JSON/],
    ['the wrong shape', '{"a":1}', /c\.x holds JSON that is not a list of strings/],
    ['an item of the wrong shape', '["a",2]', /not a list of strings/],
    ['nothing', null, /c\.x holds no value/],
    ['empty text', '', /c\.x holds no value/],
  ])('without a default, refuses %s with an error naming the column', (_what, value, message) => {
    expect(() => readJson('c.x', value, json.stringArray)).toThrow(JsonColumnError);
    expect(() => readJson('c.x', value, json.stringArray)).toThrow(message);
  });

  it('with a default, reads anything unreadable or mis-shaped as the default', () => {
    for (const v of ['{oops', '{"a":1}', null, '', '["a",2]']) expect(readJson('c.x', v, json.stringArray, [])).toEqual([]);
    expect(readJson('u.settings', '[1]', json.record, {})).toEqual({});
  });

  it('checks required and optional keys, enums and nullables', () => {
    const shape = json.object({ kind: json.oneOf(['a', 'b'] as const), n: json.nullable(json.number) }, ['n']);
    expect(shape.is({ kind: 'a' })).toBe(true);
    expect(shape.is({ kind: 'a', n: null })).toBe(true);
    expect(shape.is({ kind: 'c' })).toBe(false);
    expect(shape.is({ n: 1 })).toBe(false);
    expect(shape.is({ kind: 'b', n: 'x' })).toBe(false);
    expect(shapes.mailCredentials.is({ smtpPassword: 's' })).toBe(true);
    expect(shapes.mailCredentials.is({ imapPassword: 'i' })).toBe(false);
  });

  it('writeJson refuses a value not of the shape', () => {
    expect(writeJson('o.e', ['a'], json.stringArray)).toBe('["a"]');
    expect(() => writeJson('o.e', [1] as unknown as string[], json.stringArray)).toThrow(/o\.e/);
  });
});
