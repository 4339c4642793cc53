/**
 * Accessible everywhere (issue 21, item 10): axe-core runs inside Chromium on every page of the web app,
 * signed in (inbox with a conversation and the composer open, contacts, a contact, sequences, every
 * settings page, a page that does not exist) and public (sign-in, a booking page, a booking's manage page),
 * in the light theme, at a laptop width and at a 375 px phone width, and a few states worth checking (the
 * snippets list under the composer, a user's permissions panel, a confirmation dialog). Any violation fails
 * the test and is listed (rule, element, what to fix). Rules: axe's defaults (WCAG A/AA and best practices)
 * and `label-content-name-mismatch` (a control's accessible name must contain its visible text).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, test } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { buildWebApp, expectNoAxeViolations, hasChromium, launchChromium, signIn, startWebServer, type WebTestServer } from './support.js';
import { insertConnection } from '../support/connections.js';
import type { TestApp } from '../support/app.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch } from '../../src/features/ingest/ingest.js';
import { closeDefaultParsePool } from '../../src/mail/parse/index.js';

let dist: string;
let server: WebTestServer;
let browser: Browser;
let inboxId: string;
let conversationId: string;
let contactId: string;
let grace: { id: string };
const slug = `ada-a11y-${process.pid}`;

beforeAll(async () => {
  dist = await buildWebApp();
  server = await startWebServer(dist);
  const env = server.app.deps.env;
  const t = { env, database: server.database } as unknown as TestApp;
  const ok = async (method: string, url: string, body?: unknown) => {
    const r = await server.api(method, url, body);
    if (r.status >= 300) throw new Error(`${method} ${url}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  inboxId = (await ok('POST', '/api/v1/inboxes', { name: 'Support' })).id;
  const team = await insertConnection(t, { accountId: server.admin.accountId, userId: server.admin.userId, type: 'team', address: 'support@acme.test', inboxId });
  await insertConnection(t, {
    accountId: server.admin.accountId,
    userId: server.admin.userId,
    type: 'personal',
    address: `ada-${process.pid}@example.test`,
    smtp: { host: '127.0.0.1', port: 2, username: 'ada', password: 'x' },
    transport: 'forwarding',
    overrides: { use_for_meetings: 1 },
  });
  const tier = await ok('POST', '/api/v1/teams', { name: 'Tier 1' });
  grace = (await ok('POST', '/api/v1/users', { email: `grace-${process.pid}@example.com`, name: 'Grace Hopper', password: 'grace-password-1', teamIds: [tier.id] })).user;
  await ok('POST', '/api/v1/users', { email: `linus-${process.pid}@example.com`, name: 'Linus Pauling', role: 'admin', seat: 'free', password: 'linus-password-1' });
  await ok('POST', '/api/v1/email-templates', { kind: 'snippet', name: 'Refund policy', shortcut: 'refund', html: '<p>Refunds take five days.</p>' });
  contactId = (await ok('POST', '/api/v1/contacts', { firstName: 'Carla', lastName: 'Customer', emails: ['carla@customer.example'] })).id;
  const raw = ['From: Carla Customer <carla@customer.example>', 'To: support@acme.test', 'Subject: Where is my refund', `Message-ID: <a11y-${process.pid}@customer.example>`, `Date: ${new Date().toUTCString()}`, '', 'I sent the parcel back last week.', ''].join('\r\n');
  const stored = await ingestBatch(createIngestor(env), team, [{ raw: Buffer.from(raw), source: 'smtp', direction: 'inbound', receivedAt: Date.now() }]);
  conversationId = (await server.database.db.selectFrom('messages').select('conversation_id').where('id', '=', stored.messageIds[0]!).executeTakeFirstOrThrow()).conversation_id!;
  await ok('POST', '/api/v1/meeting-types', {
    name: 'Intro call',
    slug,
    durationMin: 30,
    minNoticeMin: 0,
    window: { kind: 'rolling', days: 3 },
    availability: { timeZone: 'UTC', weekly: Object.fromEntries(['1', '2', '3', '4', '5', '6', '7'].map((d) => [d, [{ start: '00:00', end: '24:00' }]])) },
    questions: [{ id: 'company', label: 'Company', required: false }],
  });
  if (hasChromium) browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await server?.close();
  await closeDefaultParsePool();
  if (dist) fs.rmSync(dist, { recursive: true, force: true });
});

/** A page, and what shows it is ready (its content loaded, not a spinner). */
type Visit = [name: string, path: () => string, ready: (p: Page) => Promise<unknown>];
// Paths are functions: the ids exist only once beforeAll has run, after the tests were collected.

const signedInPages = (): Visit[] => [
  ['inbox with a conversation open', () => `/inbox/open?inbox=${inboxId}&c=${conversationId}`, (p) => p.getByRole('heading', { name: 'Where is my refund' }).waitFor()],
  ['inbox, another view', () => `/inbox/closed?inbox=${inboxId}`, (p) => p.getByRole('heading', { name: 'No closed conversations' }).or(p.getByText('No conversations')).first().waitFor()],
  ['contacts', () => '/contacts', (p) => p.getByRole('link', { name: /Carla Customer/ }).first().waitFor()],
  ['a contact', () => `/contacts/${contactId}`, (p) => p.getByRole('heading', { name: /Carla Customer/ }).first().waitFor()],
  ['sequences', () => '/sequences', (p) => p.getByRole('heading', { level: 1 }).waitFor()],
  ['Settings → Email', () => '/settings/email', (p) => p.getByRole('heading', { name: 'Templates and snippets' }).waitFor()],
  ['Settings → Meetings', () => '/settings/meetings', (p) => p.getByText('Intro call').first().waitFor()],
  ['Settings → Inboxes', () => '/settings/inboxes', (p) => p.getByText('support@acme.test', { exact: true }).first().waitFor()],
  ['Settings → Users', () => '/settings/users', (p) => p.getByRole('row', { name: /Grace Hopper/ }).first().waitFor()],
  ['Settings → Webhooks', () => '/settings/webhooks', (p) => p.getByRole('heading', { level: 1 }).waitFor()],
  ['a page that does not exist', () => '/no-such-page', (p) => p.getByRole('heading', { name: 'This page does not exist' }).waitFor()],
];

const publicPages = (): Visit[] => [
  ['sign-in', () => '/', (p) => p.getByRole('button', { name: 'Sign in' }).waitFor()],
  ['a booking page', () => `/meet/${slug}`, (p) => p.locator('.booking-slots button').first().waitFor()],
  ['a booking page, a time chosen', () => `/meet/${slug}`, async (p) => {
    await p.locator('.booking-slots button').first().click();
    await p.getByLabel('Your name').waitFor();
  }],
  ["a booking's manage page (booked through the page)", () => `/meet/${slug}`, async (p) => {
    await p.locator('.booking-slots button').last().click();
    await p.getByLabel('Your name').fill('Vic Visitor');
    await p.getByLabel('Your email').fill(`vic-${Math.random().toString(36).slice(2)}@visitor.test`);
    await p.getByRole('button', { name: 'Book this time' }).click();
    await p.getByRole('link', { name: 'Reschedule or cancel' }).click();
    await p.getByRole('button', { name: 'Cancel meeting' }).waitFor();
  }],
  ['a booking page that does not exist', () => '/meet/no-such-page', (p) => p.getByText('This booking page does not exist').waitFor()],
];

const VIEWPORTS = [
  { name: 'laptop', viewport: { width: 1280, height: 900 }, mobile: false },
  { name: 'phone 375 px', viewport: { width: 375, height: 812 }, mobile: true },
];

describe.skipIf(!hasChromium).each(VIEWPORTS)('axe-core: no violations ($name, light theme)', ({ name, viewport, mobile }) => {
  let signedIn: BrowserContext;
  let visitor: BrowserContext;
  let page: Page;
  let open: Page;

  beforeAll(async () => {
    const opts = { viewport, isMobile: mobile, hasTouch: mobile, colorScheme: 'light' as const, bypassCSP: true, reducedMotion: 'reduce' as const };
    signedIn = await browser.newContext(opts);
    signedIn.setDefaultTimeout(10_000);
    page = await signedIn.newPage();
    await signIn(page, server.origin, server.admin.email, server.admin.password);
    visitor = await browser.newContext(opts);
    visitor.setDefaultTimeout(10_000);
    open = await visitor.newPage();
  });
  afterAll(async () => {
    await signedIn?.close();
    await visitor?.close();
  });

  test.each(publicPages())('public: %s', async (what, path, ready) => {
    await open.goto(server.origin + path());
    await ready(open).catch(async (e) => {
      throw new Error(`${what} did not show: ${String(e).slice(0, 200)}\n${((await open.locator('body').textContent()) ?? '').slice(0, 600)}`);
    });
    await expectNoAxeViolations(open, `${what} (${name})`);
  });

  test.each(signedInPages())('signed in: %s', async (what, path, ready) => {
    await page.goto(server.origin + path());
    await ready(page).catch(async (e) => {
      throw new Error(`${what} did not show: ${String(e).slice(0, 200)}\n${((await page.locator('body').textContent()) ?? '').slice(0, 600)}`);
    });
    await expectNoAxeViolations(page, `${what} (${name})`);
  });

  test('states: the reply composer with the snippets list, a permissions panel, a confirmation dialog', async () => {
    await page.goto(`${server.origin}/inbox/open?inbox=${inboxId}&c=${conversationId}`);
    await page.getByRole('heading', { name: 'Where is my refund' }).waitFor();
    await page.getByRole('button', { name: 'Reply', exact: true }).click();
    await page.getByLabel('Reply to the customer').fill('');
    await page.getByLabel('Reply to the customer').pressSequentially('/ref');
    await page.getByRole('listbox', { name: 'Matching snippets' }).waitFor();
    await expectNoAxeViolations(page, `the reply composer with the snippets list (${name})`);

    await page.goto(`${server.origin}/settings/users`);
    await page.getByRole('button', { name: 'Permissions, teams of Grace Hopper' }).click();
    await page.locator(`#edit-${grace.id}`).getByRole('group', { name: 'Teams' }).waitFor();
    await expectNoAxeViolations(page, `Settings → Users, a permissions panel open (${name})`);
    await page.getByRole('button', { name: 'Delete Tier 1' }).click();
    await page.getByRole('dialog', { name: 'Delete the team Tier 1?' }).waitFor();
    await expectNoAxeViolations(page, `Settings → Users, the delete-team dialog (${name})`);
    await page.keyboard.press('Escape');
  });
});
