import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { appendTimelineEvent, appendTimelineEvents } from '../../src/features/crm/commands/appendTimelineEvent.js';
import { findContactsByEmail } from '../../src/features/crm/commands/findContactsByEmail.js';
import { recordAudit } from '../../src/platform/audit.js';
import { auditOf } from './helpers.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('timeline', () => {
  it('appends idempotently per (contact, kind, ref) inside the caller’s transaction, which stays usable', async () => {
    const a = await t.account();
    const c = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Tim Line', emails: ['tim@line.test'] })).json();
    const base = { accountId: a.accountId, contactId: c.id, kind: 'email_received' as const, occurredAt: Date.UTC(2026, 0, 2), refType: 'message', refId: 'msg_1', data: { subject: 'Hello', n: 1 } };

    const results = await t.env.db.transaction().execute(async (trx) => {
      const first = await appendTimelineEvent(trx, base);
      const second = await appendTimelineEvent(trx, { ...base, data: { subject: 'Changed' } });
      // The conflict did not break the transaction (on PostgreSQL a failed statement would abort it).
      await recordAudit(trx, { accountId: a.accountId, actorUserId: null, action: 'test.after_conflict', targetType: 'contact', targetId: c.id, at: Date.now() });
      const otherKind = await appendTimelineEvent(trx, { ...base, kind: 'email_opened', occurredAt: base.occurredAt + 3_600_000 });
      const noRef1 = await appendTimelineEvent(trx, { accountId: a.accountId, contactId: c.id, kind: 'meeting', occurredAt: Date.UTC(2026, 0, 3), data: {} });
      const noRef2 = await appendTimelineEvent(trx, { accountId: a.accountId, contactId: c.id, kind: 'meeting', occurredAt: Date.UTC(2026, 0, 3), data: {} });
      return { first, second, otherKind, noRef1, noRef2 };
    });
    expect(results.first.created).toBe(true);
    expect(results.second).toEqual({ id: results.first.id, created: false });
    expect(results.otherKind.created).toBe(true);
    expect(results.noRef1.created && results.noRef2.created).toBe(true);
    expect(results.noRef1.id).not.toBe(results.noRef2.id);
    expect(await auditOf(t, a.accountId, 'test.after_conflict')).toHaveLength(1);

    // Again in a new transaction: still one.
    expect((await appendTimelineEvent(t.env.db, base)).created).toBe(false);
    // Bulk appends are idempotent too.
    const n = await appendTimelineEvents(t.env.db, a.accountId, [
      { contactId: c.id, kind: 'email_received', occurredAt: base.occurredAt, refType: 'message', refId: 'msg_1' },
      { contactId: c.id, kind: 'email_sent', occurredAt: Date.UTC(2026, 0, 4), refType: 'message', refId: 'msg_2', data: { subject: 'Re: Hello' } },
      { contactId: c.id, kind: 'email_sent', occurredAt: Date.UTC(2026, 0, 4), refType: 'message', refId: 'msg_2' },
    ]);
    expect(n).toBe(1);

    const tl = (await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}/timeline`)).json();
    expect(tl.events.map((e: { kind: string; occurredAt: string }) => [e.kind, e.occurredAt.slice(0, 10)])).toEqual([
      ['contact_created', tl.events[0].occurredAt.slice(0, 10)],
      ['email_sent', '2026-01-04'],
      ['meeting', '2026-01-03'],
      ['meeting', '2026-01-03'],
      ['email_opened', '2026-01-02'],
      ['email_received', '2026-01-02'],
    ]);
    expect(tl.events.find((e: { kind: string }) => e.kind === 'email_received')).toMatchObject({ refType: 'message', refId: 'msg_1', data: { subject: 'Hello', n: 1 } });
    expect(tl.nextCursor).toBeNull();
  });

  it('refuses contacts of other accounts, unknown kinds and half refs', async () => {
    const a = await t.account();
    const b = await t.account();
    const c = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Ann' })).json();
    await expect(appendTimelineEvent(t.env.db, { accountId: b.accountId, contactId: c.id, kind: 'note', occurredAt: 1 })).rejects.toMatchObject({ code: 'not_found', status: 404 });
    await expect(appendTimelineEvent(t.env.db, { accountId: a.accountId, contactId: c.id, kind: 'nope' as never, occurredAt: 1 })).rejects.toThrow(/Unknown timeline event kind/);
    await expect(appendTimelineEvent(t.env.db, { accountId: a.accountId, contactId: c.id, kind: 'note', occurredAt: 1, refType: 'x' })).rejects.toThrow(/both refType and refId/);
    await expect(appendTimelineEvents(t.env.db, b.accountId, [{ contactId: c.id, kind: 'note', occurredAt: 1 }])).rejects.toMatchObject({ status: 404 });
  });

  it('pages newest first and takes notes', async () => {
    const a = await t.account();
    const c = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Paged Person' })).json();
    // Five events at the same instant and three at others: the cursor must not skip or repeat any.
    const events = [
      ...Array.from({ length: 5 }, (_, i) => ({ contactId: c.id, kind: 'email_opened' as const, occurredAt: 1_000, refType: 'hit', refId: `h${i}` })),
      { contactId: c.id, kind: 'email_sent' as const, occurredAt: 2_000, refType: 'message', refId: 'm1' },
      { contactId: c.id, kind: 'email_clicked' as const, occurredAt: 500, refType: 'hit', refId: 'c1' },
    ];
    await appendTimelineEvents(t.env.db, a.accountId, events);
    const note = await t.api(a.token, 'POST', `/api/v1/contacts/${c.id}/notes`, { text: '  Called, will call back.  ' });
    expect(note.statusCode).toBe(201);
    expect(note.json()).toMatchObject({ kind: 'note', actorUserId: a.adminUserId, refType: 'note', data: { text: 'Called, will call back.' } });
    expect((await t.api(a.token, 'POST', `/api/v1/contacts/${c.id}/notes`, { text: '   ' })).statusCode).toBe(400);
    expect(await auditOf(t, a.accountId, 'contact.note_added')).toHaveLength(1);

    const seen: Array<{ id: string; kind: string; occurredAt: string }> = [];
    let cursor: string | null = null;
    do {
      const page: { events: typeof seen; nextCursor: string | null } = (await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}/timeline?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)).json();
      seen.push(...page.events);
      cursor = page.nextCursor;
    } while (cursor);
    expect(seen).toHaveLength(9);
    expect(new Set(seen.map((e) => e.id)).size).toBe(9);
    const times = seen.map((e) => Date.parse(e.occurredAt));
    expect([...times].sort((x, y) => y - x)).toEqual(times);
    expect(seen.slice(0, 2).map((e) => e.kind).sort()).toEqual(['contact_created', 'note']);
    expect(seen.slice(2).map((e) => e.kind)).toEqual(['email_sent', 'email_opened', 'email_opened', 'email_opened', 'email_opened', 'email_opened', 'email_clicked']);
    expect((await t.api(a.token, 'GET', `/api/v1/contacts/${c.id}/timeline?cursor=bad`)).json().error.code).toBe('invalid_cursor');
  });
});

describe('findContactsByEmail', () => {
  it('returns the contacts of the account having any of the keys, in the order asked', async () => {
    const a = await t.account();
    const b = await t.account();
    const ann = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Ann Lee', emails: ['ann@find.test', 'Ann.Lee@Find.test'] })).json();
    const bob = (await t.api(a.token, 'POST', '/api/v1/contacts', { name: 'Bob', emails: ['bob@find.test'] })).json();
    await t.api(b.token, 'POST', '/api/v1/contacts', { name: 'Other Ann', emails: ['ann@find.test'] });
    const found = await findContactsByEmail(t.env.db, a.accountId, ['bob@find.test', 'nobody@find.test', 'ann.lee@find.test', 'ann@find.test', 'bob@find.test']);
    expect(found.map((f) => [f.emailKey, f.contactId, f.isPrimary])).toEqual([
      ['bob@find.test', bob.id, true],
      ['ann.lee@find.test', ann.id, false],
      ['ann@find.test', ann.id, true],
    ]);
    expect(found[1]).toMatchObject({ email: 'Ann.Lee@find.test', firstName: 'Ann', lastName: 'Lee', ownerId: a.adminUserId, companyId: null, bouncedAt: null });
    expect(await findContactsByEmail(t.env.db, a.accountId, [])).toEqual([]);
  });
});
