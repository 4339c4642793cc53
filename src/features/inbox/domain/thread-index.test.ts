import { describe, expect, it } from 'vitest';
import { childBlock, decodeThreadIndex, filetimeOf, MAX_CHILD_BLOCKS, newThreadIndex, replyThreadIndex, replyThreadTopic } from './thread-index.js';

const GUID = Uint8Array.from({ length: 16 }, (_, i) => i + 1);
const hex = (b64: string) => Buffer.from(b64, 'base64').toString('hex');

// Real Outlook headers (public mailing-list archives):
//  - Outlook 2007, a new conversation; X-OriginalArrivalTime 02 Mar 2009 20:46:42.0919 (UTC).
const REAL_NEW = 'Acmbd/xqs4+R1bMMQCalXkts/1063A==';
//  - Outlook 11, a reply (header + one child block) to a message dated Fri, 2 Jun 2006 23:16 +1000.
const REAL_REPLY = 'AcaGRtIDk32mHzBMTdqcqq5tQbqNEwAR8Mzg';

describe('decodeThreadIndex', () => {
  it.each([
    ['real, header only', REAL_NEW, { at: '2009-03-02T20:46:39.498Z', guid: 'b38f91d5b30c4026a55e4b6cff5d3adc', children: 0 }],
    ['real, one child block', REAL_REPLY, { at: '2006-06-02T13:16:55.588Z', guid: '937da61f304c4dda9caaae6d41ba8d13', children: 1 }],
    ['folded with spaces', 'Acmbd/xqs4+R1bMM QCalXkts/1063A==', { at: '2009-03-02T20:46:39.498Z', guid: 'b38f91d5b30c4026a55e4b6cff5d3adc', children: 0 }],
  ])('%s', (_name, value, want) => {
    const d = decodeThreadIndex(value)!;
    expect(new Date(d.at).toISOString()).toBe(want.at);
    expect(d.guid).toBe(want.guid);
    expect(d.children).toHaveLength(want.children);
  });

  it('reads the real reply\'s child block: about 8.6 hours after the header', () => {
    const d = decodeThreadIndex(REAL_REPLY)!;
    expect(d.children[0]!.deltaMs).toBe(30_821_738);
  });

  it.each([
    ['empty', ''],
    ['null', null],
    ['too short', Buffer.alloc(21, 1).toString('base64')],
    ['not a whole child block', Buffer.alloc(25, 1).toString('base64')],
    ['not base64', 'not*base64!'],
    ['a time before 1970', Buffer.alloc(22, 0).toString('base64')],
  ])('refuses %s', (_name, value) => {
    expect(decodeThreadIndex(value)).toBeNull();
  });
});

describe('newThreadIndex', () => {
  it('is 22 bytes: 6 bytes of FILETIME (upper 48 bits) then the GUID', () => {
    const now = Date.parse('2026-12-06T08:00:00Z');
    const v = newThreadIndex(now, GUID);
    const bytes = Buffer.from(v, 'base64');
    expect(bytes).toHaveLength(22);
    expect(bytes[0]).toBe(0x01);
    expect(BigInt(`0x${bytes.subarray(0, 6).toString('hex')}`)).toBe(filetimeOf(now) >> 16n);
    expect(bytes.subarray(6).toString('hex')).toBe('0102030405060708090a0b0c0d0e0f10');
    expect(Math.abs(decodeThreadIndex(v)!.at - now)).toBeLessThan(10);
  });

  it('refuses a GUID that is not 16 bytes', () => {
    expect(() => newThreadIndex(0, new Uint8Array(15))).toThrow();
  });
});

describe('replyThreadIndex', () => {
  it('extends the real Outlook index: its 22 bytes, then a 5-byte child block with the time delta', () => {
    // An answer one hour after the header's time.
    const header = decodeThreadIndex(REAL_NEW)!;
    const v = replyThreadIndex({ parent: REAL_NEW, now: header.at + 3_600_000, guid: GUID, random: 0xa });
    expect(hex(v).slice(0, 44)).toBe(hex(REAL_NEW));
    const d = decodeThreadIndex(v)!;
    expect(d.guid).toBe(header.guid);
    expect(d.children).toHaveLength(1);
    // The delta keeps bits 18 and up of 100-ns units: within 26.2 ms of the real one.
    expect(Math.abs(d.children[0]!.deltaMs - 3_600_000)).toBeLessThan(27);
    expect(d.children[0]!.low).toBe(0xa1);
  });

  it('extends an index that already has child blocks (a reply to a reply)', () => {
    const v = replyThreadIndex({ parent: REAL_REPLY, now: decodeThreadIndex(REAL_REPLY)!.at + 86_400_000, guid: GUID, random: 0 });
    expect(hex(v).slice(0, 54)).toBe(hex(REAL_REPLY));
    const d = decodeThreadIndex(v)!;
    expect(d.children).toHaveLength(2);
    expect(Math.abs(d.children[1]!.deltaMs - 86_400_000)).toBeLessThan(27);
  });

  it.each([
    ['no parent index', null],
    ['a damaged parent index', 'AQID'],
  ])('starts a new conversation index with %s', (_name, parent) => {
    const now = Date.parse('2026-12-06T08:00:00Z');
    expect(replyThreadIndex({ parent, now, guid: GUID, random: 0 })).toBe(newThreadIndex(now, GUID));
  });

  it('uses the long form (DeltaCode 1) for deltas of 2^48 x 100 ns (about 326 days) and more', () => {
    const ft = filetimeOf(Date.parse('2020-01-01T00:00:00Z'));
    const shortB = childBlock(ft, Date.parse('2020-06-01T00:00:00Z'), 0, 1);
    const longB = childBlock(ft, Date.parse('2022-01-01T00:00:00Z'), 0, 1);
    expect(shortB[0]! >> 7).toBe(0);
    expect(longB[0]! >> 7).toBe(1);
    const word = Buffer.from(longB).readUInt32BE(0) & 0x7fffffff;
    const ms = Number((BigInt(word) << 23n) / 10_000n);
    expect(Math.abs(ms - (Date.parse('2022-01-01T00:00:00Z') - Date.parse('2020-01-01T00:00:00Z')))).toBeLessThan(900);
  });

  it('clamps a parent dated in the future to a zero delta', () => {
    const block = childBlock(filetimeOf(Date.parse('2030-01-01T00:00:00Z')), Date.parse('2026-01-01T00:00:00Z'), 0, 1);
    expect([...block.subarray(0, 4)]).toEqual([0, 0, 0, 0]);
  });

  it(`keeps only the header once the parent has ${MAX_CHILD_BLOCKS} child blocks`, () => {
    const long = Buffer.concat([Buffer.from(REAL_NEW, 'base64'), Buffer.alloc(5 * MAX_CHILD_BLOCKS, 0)]).toString('base64');
    const d = decodeThreadIndex(replyThreadIndex({ parent: long, now: Date.parse('2009-03-03T00:00:00Z'), guid: GUID, random: 0 }))!;
    expect(d.children).toHaveLength(1);
  });
});

describe('replyThreadTopic', () => {
  it.each([
    ['keeps the parent\'s topic as it is', 'remote branches, and branch names in general', 'Re: something else', 'remote branches, and branch names in general'],
    ['base subject when the parent has none', null, 'RE: AW: Invoice 42', 'Invoice 42'],
    ['base subject when the parent\'s is blank', '  ', 'Re: Invoice 42', 'Invoice 42'],
    ['no line breaks', 'a\r\n b', 'x', 'a  b'],
  ])('%s', (_name, topic, subject, want) => {
    expect(replyThreadTopic(topic, subject)).toBe(want);
  });
});
