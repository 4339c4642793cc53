/**
 * Sequences in Chromium against a real Mailroom: the Sequences page in the main navigation, writing a
 * sequence in the steps editor (an email with tokens, then a call task), enrolling a contact from the
 * page, the enrollment with its state, and the contact's record showing it (and unenrolling from there).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { Browser } from 'playwright-core';
import { buildWebApp, hasChromium, insertWebConnection, launchChromium, screenshot, signIn, startWebServer, type WebTestServer } from './support.js';
import { createIngestor } from '../../src/app/engine.js';
import { runEnrollmentStep } from '../../src/features/sequences/commands/runDueSteps.js';

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

  test('A/B variants written and edited in the editor; stats per step and variant after the scheduler ran', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/sequences`);
    await page.getByRole('button', { name: 'New sequence' }).click();
    const editor = page.getByRole('form', { name: 'Sequence editor' });
    await editor.locator('#seq-name').fill('Split test');
    await editor.locator('#step-0-subject').fill('Short subject');
    await editor.locator('#step-0-html').fill('<p>Version A.</p>');
    await editor.getByRole('button', { name: 'Add an A/B variant to step 1' }).click();
    await editor.getByRole('group', { name: 'Step 1 variant B' }).waitFor();
    await editor.locator('#step-0-v1-subject').fill('A longer subject for B');
    await editor.locator('#step-0-v1-html').fill('<p>Version B.</p>');
    await editor.getByRole('button', { name: 'Save sequence' }).click();
    const detail = page.getByRole('region', { name: 'Sequence Split test' });
    await detail.getByText('2 variants: A “Short subject”, B “A longer subject for B”').waitFor();
    const seqId = (await server.api('GET', '/api/v1/sequences')).body.sequences.find((x: { name: string }) => x.name === 'Split test').id as string;
    expect((await server.api('GET', `/api/v1/sequences/${seqId}`)).body.steps[0].variants).toEqual([
      { subject: 'Short subject', html: '<p>Version A.</p>' },
      { subject: 'A longer subject for B', html: '<p>Version B.</p>' },
    ]);

    // Six contacts enrolled, the scheduler runs their first step: each gets one variant.
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const c = (await server.api('POST', '/api/v1/contacts', { firstName: `Ab${i}`, emails: [`ab${i}-${process.pid}@split.test`] })).body;
      const e = await server.api('POST', `/api/v1/sequences/${seqId}/enrollments`, { contactId: c.id });
      expect(e.status, JSON.stringify(e.body)).toBe(201);
      ids.push(e.body.id);
    }
    const env = server.app.deps.env;
    const ingestor = createIngestor(env);
    // The scheduler at each step's due time (the editor's default window and weekdays may put it later).
    for (const id of ids) {
      const due = Number((await server.database.db.selectFrom('sequence_enrollments').select('next_due_at').where('id', '=', id).executeTakeFirstOrThrow()).next_due_at);
      expect(await runEnrollmentStep({ ...env, now: () => Math.max(due, Date.now()) + 1000 }, { putBlob: (b) => ingestor.blobs.put(b), replyTokenSecret: ingestor.replyTokenSecret }, id)).toBe('queued');
    }
    const runs = await server.database.db.selectFrom('sequence_steps_run').select('variant').where('enrollment_id', 'in', ids).execute();
    const b = runs.filter((r) => Number(r.variant) === 1).length;

    await page.reload();
    await page.getByRole('button', { name: 'Split test' }).click();
    const table = detail.getByRole('table', { name: 'Stats per step and variant' });
    const rowA = table.getByRole('row', { name: /Step 1 · variant A/ });
    const rowB = table.getByRole('row', { name: /Step 1 · variant B/ });
    if (6 - b > 0) expect(await rowA.locator('td').first().textContent()).toBe(String(6 - b));
    if (b > 0) expect(await rowB.locator('td').first().textContent()).toBe(String(b));
    await detail.getByText(/^Opens and clicks are indicative/).waitFor();
    await screenshot(page, 'sequences-variants-stats');

    // Editing keeps both variants; removing B saves one.
    await detail.getByRole('button', { name: 'Edit steps' }).click();
    await expect.poll(() => editor.locator('#step-0-v1-subject').inputValue()).toBe('A longer subject for B');
    await editor.getByRole('button', { name: 'Remove variant B' }).click();
    await editor.getByRole('button', { name: 'Save sequence' }).click();
    await detail.getByText('Version 2').waitFor();
    expect((await server.api('GET', `/api/v1/sequences/${seqId}`)).body.steps[0].variants).toHaveLength(1);
    expect(errors).toEqual([]);
    await ctx.close();
  });

  test('bulk enroll from the sequence page: choose several contacts, see each one\'s result', async () => {
    const seqs = (await server.api('GET', '/api/v1/sequences')).body.sequences as Array<{ id: string; name: string }>;
    const intro = seqs.find((x) => x.name === 'Intro')!;
    const made: Array<{ id: string }> = [];
    for (const n of ['A', 'B', 'C']) made.push((await server.api('POST', '/api/v1/contacts', { firstName: 'Bulkx', lastName: n, emails: [`bulkx-${n.toLowerCase()}-${process.pid}@bulk.test`] })).body);
    // C is already in another sequence.
    const other = await server.api('POST', '/api/v1/sequences', { name: 'Other one', steps: [{ type: 'call', note: 'Call' }] });
    expect((await server.api('POST', `/api/v1/sequences/${other.body.id}/enrollments`, { contactId: made[2]!.id })).status).toBe(201);
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    await page.goto(`${server.origin}/sequences`);
    await page.getByRole('button', { name: 'Intro' }).click();
    const detail = page.getByRole('region', { name: 'Sequence Intro' });
    await detail.locator('#enroll-q').fill('Bulkx');
    await detail.getByRole('button', { name: 'Find' }).click();
    for (const n of ['A', 'B', 'C']) await detail.getByRole('checkbox', { name: `Bulkx ${n}` }).check();
    await detail.getByRole('button', { name: 'Enroll 3 selected' }).click();
    const results = detail.getByRole('region', { name: 'Enrollment results' });
    await results.getByText('2 enrolled, 1 not enrolled.').waitFor();
    await results.getByText(/Bulkx C: This contact is already in the sequence "Other one"/).waitFor();
    await results.getByText('Bulkx A: enrolled').waitFor();
    await detail.getByRole('row', { name: /Bulkx B/ }).getByText('active').waitFor();
    const list = (await server.api('GET', `/api/v1/sequence-enrollments?sequenceId=${intro.id}`)).body.enrollments as Array<{ contactId: string; state: string }>;
    expect(list.filter((e) => made.slice(0, 2).some((m) => m.id === e.contactId)).map((e) => e.state)).toEqual(['active', 'active']);
    expect(errors).toEqual([]);
    await ctx.close();
  });
});
