import { describe, expect, it } from 'vitest';
import { buildDigest, MAX_DIGEST_ITEMS, notificationLink } from './notification-digest.js';

const base = { userName: 'Ana María López', accountId: 'acc_1', publicUrl: 'https://crm.example/', now: 0 };
const item = (message: string, data: Record<string, unknown> = {}, createdAt = 1) => ({ kind: 'k', message, data, createdAt });

describe('notification digest', () => {
  it('one item: its message is the subject', () => {
    const d = buildDigest({ ...base, items: [item('Carla assigned "Refund" to you.\n', { conversationId: 'cnv_1', inboxId: 'inb_1' })] });
    expect(d.subject).toBe('Carla assigned "Refund" to you.');
    expect(d.text).toContain('Hi Ana,');
    expect(d.text).toContain('https://crm.example/inbox?inbox=inb_1&c=cnv_1');
    expect(d.headers).toEqual({ 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', Precedence: 'bulk', 'X-Mailroom-Loop': 'acc_1' });
  });

  it('several items: counted, oldest first, escaped in HTML', () => {
    const d = buildDigest({ ...base, items: [item('second <b>', {}, 2), item('first & co', {}, 1)] });
    expect(d.subject).toBe('2 new notifications in Mailroom');
    expect(d.text.indexOf('first & co')).toBeLessThan(d.text.indexOf('second <b>'));
    expect(d.html).toContain('first &amp; co');
    expect(d.html).toContain('second &lt;b&gt;');
    expect(d.html).not.toContain('<b>');
  });

  it(`caps the list at ${MAX_DIGEST_ITEMS} and says how many more`, () => {
    const items = Array.from({ length: MAX_DIGEST_ITEMS + 7 }, (_, i) => item(`n${i}`, {}, i));
    const d = buildDigest({ ...base, items });
    expect(d.subject).toBe(`${MAX_DIGEST_ITEMS + 7} new notifications in Mailroom`);
    expect(d.text).toContain('...and 7 more');
    expect(d.text).not.toContain(`n${MAX_DIGEST_ITEMS}\n`);
  });

  it('long subjects are cut; a user without a name is greeted anyway', () => {
    const d = buildDigest({ ...base, userName: ' ', items: [item('x'.repeat(400))] });
    expect(d.subject.length).toBe(150);
    expect(d.subject.endsWith('…')).toBe(true);
    expect(d.text).toContain('Hi there,');
  });

  it.each([
    [{ conversationId: 'cnv_9' }, 'https://crm.example/inbox?c=cnv_9'],
    [{ conversationId: 'cnv_9', inboxId: 'inb_2' }, 'https://crm.example/inbox?inbox=inb_2&c=cnv_9'],
    [{ contactId: 'ctc_2' }, 'https://crm.example/contacts/ctc_2'],
    [{ connectionId: 'con_1' }, 'https://crm.example/settings/email'],
    [{ conversationId: '../../evil' }, 'https://crm.example/'],
    [{ conversationId: 'javascript:alert(1)' }, 'https://crm.example/'],
    [{}, 'https://crm.example/'],
  ])('links %o to %s', (data, link) => {
    expect(notificationLink('https://crm.example/', { data })).toBe(link);
  });
});
