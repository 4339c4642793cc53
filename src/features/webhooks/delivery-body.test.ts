import { describe, expect, it } from 'vitest';
import { deliveryBody } from './delivery.js';

const ev = (data: string) => ({ id: 'evt_1', type: 'contact.updated', created_at: Date.UTC(2026, 11, 7, 6, 0, 0, 123), data });
/** The body as built from the parsed data (the reference). */
const reference = (data: unknown, object?: unknown) =>
  JSON.stringify({ type: 'contact.updated', version: 1, timestamp: '2026-12-07T06:00:00.123Z', eventId: 'evt_1', data: object === undefined ? data : { ...(data as object), object } });

describe('deliveryBody', () => {
  it('a thin body is the event data as recordEvent stores it, byte for byte what serialising the parsed data gives', () => {
    const samples: Record<string, unknown>[] = [
      {},
      { contactId: 'con_1', changed: ['firstName'] },
      { '2': 'b', '1': 'a', z: null, n: -0, big: 1e21, small: 5e-7, f: 0.1 + 0.2 },
      { text: 'quote " backslash \\ newline \n tab \t control \u0001 emoji 😀 lone \ud800 end', nested: { a: [1, { b: true }], '': '' } },
      JSON.parse('{"__proto__":"own","a":1}') as Record<string, unknown>,
    ];
    for (const data of samples) {
      const stored = JSON.stringify(data);
      const body = deliveryBody(ev(stored));
      expect(body).toBe(reference(JSON.parse(stored)));
      expect(JSON.parse(body).data).toEqual(JSON.parse(stored));
    }
  });

  it('data that is not a stored object is read as before: an object kept, anything else sent as {}', () => {
    expect(deliveryBody(ev(' { "a" : 1 } '))).toBe(reference({ a: 1 }));
    expect(deliveryBody(ev('[1,2]'))).toBe(reference({}));
    expect(deliveryBody(ev('not json'))).toBe(reference({}));
    expect(deliveryBody(ev(''))).toBe(reference({}));
  });

  it('a full body adds the object to the data', () => {
    expect(deliveryBody(ev('{"contactId":"con_1"}'), { id: 'con_1', name: 'Ada' })).toBe(reference({ contactId: 'con_1' }, { id: 'con_1', name: 'Ada' }));
  });
});
