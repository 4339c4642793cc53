/**
 * Sequences in Chromium against a real Mailroom: the Sequences page in the main navigation, writing a
 * sequence in the steps editor (an email with tokens, then a call task), enrolling a contact from the
 * page, the enrollment with its state, and the contact's record showing it (and unenrolling from there).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, insertWebConnection, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  await insertWebConnection(server, {
    type: 'personal',
    address: `ada-${process.pid}@sales.test`,
    imap: { host: 'imap.example.org', port: 993, username: 'ada', password: 'pw' },
    smtp: { host: 'smtp.example.org', port: 465, username: 'ada', password: 'pw' },
    overrides: { state: 'active' },
  });
  if (hasChromium) browser = await launchChromium();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await server?.close();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

describe.skipIf(!hasChromium)('Sequences', () => {
  test('write a sequence, enroll a contact, see the enrollment on the page and on the contact', async () => {
    const ann = (await server.api('POST', '/api/v1/contacts', { firstName: 'Ann', lastName: 'Lee', emails: [`ann-${process.pid}@client.test`] })).body;
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Sequences' }).click();
    await page.getByRole('heading', { name: 'Sequences', level: 1 }).waitFor();
    await page.getByText('No sequences yet').waitFor();

    await page.getByRole('button', { name: 'New sequence' }).click();
    const editor = page.getByRole('form', { name: 'Sequence editor' });
    await editor.locator('#seq-name').fill('Intro');
    await editor.locator('#seq-zone').fill('Europe/Paris');
    await editor.locator('#step-0-subject').fill('Hello {{ contact.firstName | "there" }}');
    await editor.locator('#step-0-html').fill('<p>A quick intro.</p>');
    await editor.getByRole('button', { name: 'Add a step' }).click();
    await editor.locator('#step-1-type').selectOption('call');
    await editor.locator('#step-1-note').fill('Call Ann');
    await editor.getByRole('button', { name: 'Save sequence' }).click();
    const detail = page.getByRole('region', { name: 'Sequence Intro' });
    await detail.waitFor();
    await detail.getByText('Call task — 2 business days').waitFor();

    await detail.locator('#enroll-q').fill('Ann');
    await detail.getByRole('button', { name: 'Find' }).click();
    await detail.getByRole('button', { name: 'Enroll' }).click();
    await detail.getByText('Enrolled. The first step goes out').waitFor();
    const row = detail.getByRole('row', { name: /Ann Lee/ });
    await row.getByText('active').waitFor();
    await screenshot(page, 'sequences-page');

    await page.goto(`${server.origin}/contacts/${ann.id}`);
    const onContact = page.getByRole('region', { name: 'Sequences' });
    await onContact.getByText('Intro').waitFor();
    await onContact.getByRole('button', { name: 'Unenroll' }).click();
    await onContact.getByText('manual').waitFor();
    const list = (await server.api('GET', `/api/v1/sequence-enrollments?contactId=${ann.id}`)).body.enrollments;
    expect(list).toMatchObject([{ state: 'unenrolled', reason: 'manual' }]);
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
