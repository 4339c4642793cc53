import { describe, expect, it } from 'vitest';
import { messageTime, receivedTime } from './dating.js';
import { parseMailDate } from '../../../mail/parse/index.js';

const f = (key: string, value: string) => ({ key, value });
const T = (s: string) => Date.parse(s);
const RECEIVED = [
  f('received', 'from mx.example.org (mx.example.org [192.0.2.1]) by mail.example.net with ESMTP id 1234; Tue, 3 Mar 2009 10:00:00 +0000'),
  f('received', 'from client by mx.example.org; Tue, 3 Mar 2009 09:59:00 +0000'),
];

describe('dating a message for threading', () => {
  it.each([
    ['the Date header wins', { date: new Date(T('2020-01-01T00:00:00Z')), headerFields: RECEIVED }, { fileTime: 5, receivedAt: 9 }, { at: T('2020-01-01T00:00:00Z'), source: 'date' }],
    ['no Date: the newest Received header', { date: null, headerFields: RECEIVED }, { fileTime: 5, receivedAt: 9 }, { at: T('2009-03-03T10:00:00Z'), source: 'received' }],
    ['no Date, Received without a date: the file time', { date: null, headerFields: [f('received', 'from a by b with SMTP')] }, { fileTime: 5, receivedAt: 9 }, { at: 5, source: 'file_time' }],
    ['nothing else: the arrival', { date: null, headerFields: [] }, { receivedAt: 9 }, { at: 9, source: 'arrival' }],
    ['an invalid Date object counts as none', { date: new Date(Number.NaN), headerFields: [] }, { receivedAt: 9 }, { at: 9, source: 'arrival' }],
  ] as const)('%s', (_label, m, item, expected) => {
    expect(messageTime({ date: m.date, headerFields: [...m.headerFields] }, item, parseMailDate)).toEqual(expected);
  });

  it('skips Received headers whose date does not parse', () => {
    expect(receivedTime([f('received', 'from x; not a date'), ...RECEIVED], parseMailDate)).toBe(T('2009-03-03T10:00:00Z'));
    expect(receivedTime([f('subject', 'x; Tue, 3 Mar 2009 10:00:00 +0000')], parseMailDate)).toBeNull();
  });
});
