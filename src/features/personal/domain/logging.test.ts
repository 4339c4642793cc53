import { describe, expect, it } from 'vitest';
import { decideLogging, isNeverLogged, parseNeverLogEntry, type LogDecisionInput, type NeverLogEntry } from './logging.js';

describe('never-log entries', () => {
  it.each([
    ['ann@Acme.example', { kind: 'address', value: 'ann@acme.example' }],
    ['acme.example', { kind: 'domain', value: 'acme.example' }],
    ['@Acme.Example', { kind: 'domain', value: 'acme.example' }],
    ['https://www.acme.example/about', { kind: 'domain', value: 'acme.example' }],
  ])('%s', (input, entry) => {
    expect(parseNeverLogEntry(input)).toEqual({ ok: true, entry });
  });
  it.each(['', 'not an address@', 'a@b@c', 'localhost'])('refuses %j', (input) => {
    expect(parseNeverLogEntry(input).ok).toBe(false);
  });
  const list: NeverLogEntry[] = [
    { kind: 'domain', value: 'lawyers.example' },
    { kind: 'address', value: 'hr@acme.example' },
  ];
  it.each([
    ['x@lawyers.example', true],
    ['x@eu.lawyers.example', true],
    ['x@notlawyers.example', false],
    ['HR@Acme.example', true],
    ['sales@acme.example', false],
  ])('%s listed: %s', (address, listed) => {
    expect(isNeverLogged(address, list)).toBe(listed);
  });
});

const base: LogDecisionInput = {
  situation: 'crm_send',
  rule: 'replies_only',
  createContacts: false,
  neverLog: [{ kind: 'domain', value: 'secret.example' }],
  userLogs: true,
  participants: [],
};
const known = (address: string) => ({ address, contactId: `c-${address}` });
const unknown = (address: string) => ({ address, contactId: null });

describe('decideLogging', () => {
  it.each<[string, Partial<LogDecisionInput>, { log: boolean; logTo?: string[]; create?: string[]; why?: string }]>([
    ['CRM send to a contact', { participants: [known('ann@acme.example')] }, { log: true, logTo: ['ann@acme.example'] }],
    ['CRM send with logging off for this email', { userLogs: false, participants: [known('ann@acme.example')] }, { log: false, why: 'user_off' }],
    ['CRM send: never-log recipient dropped, others still log', { participants: [known('ann@acme.example'), known('x@secret.example')] }, { log: true, logTo: ['ann@acme.example'] }],
    ['CRM send only to never-log domain', { participants: [known('x@secret.example')] }, { log: false, why: 'never_log' }],
    ['CRM send: unknown recipient, create off', { participants: [unknown('new@acme.example')] }, { log: false, why: 'no_contacts' }],
    ['CRM send: unknown recipient, create on', { createContacts: true, participants: [unknown('new@acme.example'), known('ann@acme.example')] }, { log: true, logTo: ['ann@acme.example'], create: ['new@acme.example'] }],
    ['never-log beats create', { createContacts: true, participants: [unknown('new@secret.example')] }, { log: false, why: 'never_log' }],
    ['BCC logs even when the default is off', { situation: 'bcc', userLogs: false, participants: [known('ann@acme.example')] }, { log: true, logTo: ['ann@acme.example'] }],
    ['Sent folder, replies-only rule', { situation: 'sent_from_client', participants: [known('ann@acme.example')] }, { log: false, why: 'rule' }],
    ['Sent folder, all known contacts', { situation: 'sent_from_client', rule: 'all_known_contacts', participants: [known('ann@acme.example'), unknown('x@y.example')] }, { log: true, logTo: ['ann@acme.example'] }],
    ['Sent folder never creates contacts', { situation: 'sent_from_client', rule: 'all_known_contacts', createContacts: true, participants: [unknown('x@y.example')] }, { log: false, why: 'no_contacts' }],
    ['Received, all known contacts', { situation: 'received', rule: 'all_known_contacts', participants: [known('ann@acme.example')] }, { log: true, logTo: ['ann@acme.example'] }],
    ['Received, user default off', { situation: 'received', rule: 'all_known_contacts', userLogs: false, participants: [known('ann@acme.example')] }, { log: false, why: 'user_off' }],
    ['Reply in a logged conversation', { situation: 'reply', participants: [unknown('ann.other@acme.example')] }, { log: true }],
    ['Reply from a never-log sender', { situation: 'reply', participants: [known('x@secret.example')] }, { log: false, why: 'never_log' }],
    ['Repeated recipient counted once', { participants: [known('ann@acme.example'), known('ANN@acme.example')] }, { log: true, logTo: ['ann@acme.example'] }],
  ])('%s', (_name, patch, expected) => {
    const d = decideLogging({ ...base, ...patch });
    expect(d.log).toBe(expected.log);
    if (expected.logTo) expect(d.logTo.map((p) => p.address)).toEqual(expected.logTo);
    if (expected.create) expect(d.create).toEqual(expected.create);
    if (expected.why) expect(d.why).toBe(expected.why);
  });
});
