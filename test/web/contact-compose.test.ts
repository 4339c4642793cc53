/**
 * Writing to a contact from their record in a real browser, end to end: the salesperson's own mailbox
 * on the test Dovecot (through the real submission server), a contact with their own Dovecot mailbox.
 * A template is chosen (tokens filled for this contact), a snippet inserted, tracking turned off for this
 * email, and the email arrives in the contact's mailbox in the default font. A second email is scheduled
 * and cancelled before it leaves.
 */
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { hasChromium, screenshot, signIn } from './support.js';
import { startMailWorld, type MailWorld } from './mail-world.js';
import { sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { parseMessage } from '../../src/mail/parse/index.js';

let w: MailWorld;
const SELLER = `ada-${process.pid}@sales.test`;
const ANN = `ann-${process.pid}@client.test`;

beforeAll(async () => {
  w = await startMailWorld({ [SELLER]: 'seller-pw', [ANN]: 'ann-pw' });
  await w.connectMailbox(SELLER, 'seller-pw', { type: 'personal' });
}, 120_000);

afterAll(async () => {
  await w?.stop();
});

describe.skipIf(!hasChromium)('compose from a contact record', () => {
  test('template + snippet + attachment, tracking off, default font: it reaches the contact; a scheduled one is cancelled', async () => {
    const ok = async (method: string, url: string, body?: unknown) => {
      const r = await w.server.api(method, url, body);
      expect(r.status, `${method} ${url}: ${JSON.stringify(r.body)}`).toBeLessThan(300);
      return r.body;
    };
    const ann = await ok('POST', '/api/v1/contacts', { firstName: 'Ann', lastName: 'Lee', emails: [ANN] });
    await ok('POST', '/api/v1/email-templates', { kind: 'snippet', name: 'Calendar link', shortcut: 'cal', html: '<p>Book a call: https://cal.example/ada</p>' });
    await ok('PATCH', '/api/v1/email-preferences', { font: { family: 'georgia', sizePx: 15, color: '#224466' }, trackOpens: true, trackClicks: true });

    const context = await w.browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    await signIn(page, w.server.origin, w.server.admin.email, w.server.admin.password);

    // Settings → Email: save the template (a bad token is refused with the reason), turn notification email off.
    await page.goto(`${w.server.origin}/settings/email`);
    const newTemplate = page.getByRole('form', { name: 'New template or snippet' });
    await newTemplate.getByLabel('Name').fill('Welcome');
    await newTemplate.getByLabel('Subject').fill('Welcome, {{ contact.nickname }}');
    await newTemplate.getByLabel('Body').fill('Dear {{ contact.firstName }} {{ contact.lastName }},\n\nglad to have you.');
    await newTemplate.getByRole('button', { name: 'Save template' }).click();
    await newTemplate.getByText(/Not saved: contact\.nickname is not a personalization token/).waitFor();
    await newTemplate.getByLabel('Subject').fill('Welcome, {{ contact.firstName }}');
    await newTemplate.getByRole('button', { name: 'Save template' }).click();
    await newTemplate.getByText('Saved "Welcome".', { exact: false }).waitFor();
    await page.getByRole('list', { name: 'Your templates and snippets' }).getByText('Welcome', { exact: true }).waitFor();
    await page.getByLabel(/Email me my notifications/).uncheck();
    await expect.poll(async () => (await ok('GET', `/api/v1/users/${w.server.admin.userId}`)).emailNotifications).toBe(false);
    await screenshot(page, 'settings-email-templates');
    await page.goto(`${w.server.origin}/contacts/${ann.id}`);
    await page.getByRole('button', { name: 'Write an email' }).click();
    const form = page.getByRole('form', { name: 'Write an email' });
    await expect.poll(() => form.getByLabel('From').inputValue()).not.toBe('');
    expect(await form.getByLabel('To', { exact: true }).inputValue()).toBe(ANN);
    await form.getByLabel('Template').selectOption({ label: 'Welcome' });
    await expect.poll(() => form.getByLabel('Subject').inputValue()).toBe('Welcome, {{ contact.firstName }}');
    await form.getByText('Preview for this contact').click();
    await expect.poll(() => form.getByText('Welcome, Ann').count()).toBe(1);
    // The editor is in the default font.
    expect(await form.getByRole('textbox', { name: 'Email body' }).evaluate((el) => getComputedStyle(el).fontFamily)).toMatch(/Georgia/);
    await form.getByRole('textbox', { name: 'Email body' }).click();
    await page.keyboard.press('End');
    await form.getByLabel('Insert a snippet').selectOption({ label: '/cal · Calendar link' });
    await form.getByLabel('Attach files').setInputFiles({ name: 'price-list.txt', mimeType: 'text/plain', buffer: Buffer.from('Prices: 10 EUR a seat') });
    await form.getByRole('list', { name: 'Attachments' }).getByText('price-list.txt (1 KB)').waitFor();
    await form.getByLabel('Track opens').uncheck();
    await form.getByLabel('Track clicks').uncheck();
    await screenshot(page, 'contact-compose', { fullPage: false });
    await form.getByRole('button', { name: 'Send', exact: true }).click();
    await page.getByText('Sent. It goes out through your mailbox').waitFor();

    const emails = (await ok('GET', `/api/v1/personal-emails?contactId=${ann.id}`)).emails;
    expect(emails).toHaveLength(1);
    const row = await w.server.database.db.selectFrom('personal_emails').select(['outbox_id', 'track_opens', 'track_clicks']).where('id', '=', emails[0].id).executeTakeFirstOrThrow();
    expect([row.track_opens, row.track_clicks]).toEqual([0, 0]);
    expect(await sendOutboxMessage(w.ingestor, row.outbox_id)).toBe('sent');
    const inbox = await w.inboxOf(ANN, 'ann-pw');
    expect(inbox).toHaveLength(1);
    const mail = await parseMessage(inbox[0]!);
    expect(mail.subject).toBe('Welcome, Ann');
    expect(mail.from?.address).toBe(SELLER);
    expect(mail.html).toContain('Dear Ann Lee,');
    expect(mail.html).toContain('Book a call: https://cal.example/ada');
    expect(mail.html).toMatch(/font-family:\s*Georgia/i);
    expect(mail.html).not.toMatch(/\{\{|\/t\/o\//);
    expect(mail.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([['price-list.txt', 'Prices: 10 EUR a seat']]);

    // Schedule another for tomorrow, then cancel it from the list.
    await page.getByRole('button', { name: 'Write an email' }).click();
    await form.getByLabel('Subject').fill('Checking in');
    await form.getByRole('textbox', { name: 'Email body' }).fill('Any questions so far?');
    await form.getByLabel('Send later').check();
    const tomorrow = new Date(Date.now() + 24 * 3_600_000);
    const local = new Date(tomorrow.getTime() - tomorrow.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
    await form.getByLabel('Send at').fill(local);
    await form.getByRole('button', { name: 'Schedule' }).click();
    await page.getByText(/^Scheduled for /).waitFor();
    await page.getByRole('button', { name: 'Cancel the scheduled email "Checking in"' }).click();
    await expect.poll(() => page.getByRole('button', { name: 'Cancel the scheduled email "Checking in"' }).count()).toBe(0);
    const states = (await ok('GET', `/api/v1/personal-emails?contactId=${ann.id}`)).emails.map((m: { subject: string; state: string }) => `${m.subject}:${m.state}`);
    expect(states.sort()).toEqual(['Checking in:cancelled', 'Welcome, Ann:sent']);
    await context.close();
  }, 120_000);
});
