/**
 * Browser tests: a real Mailroom (API + the built web app) on a free port over a fresh test
 * database, and Debian's Chromium driven by playwright-core (no browser downloads).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import { buildApp } from '../../src/app/http.js';
import { loadConfig } from '../../src/app/config.js';
import { makeCommandEnv } from '../../src/app/env.js';
import type { CommandEnv } from '../../src/platform/context.js';
import { createAccount } from '../../src/features/accounts/commands/createAccount.js';
import { createTestDatabase, type TestDatabase } from '../support/db.js';
import { CHROMIUM, hasTestProgram } from '../harness/requirements.js';
import { insertConnection } from '../support/connections.js';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const SCREENSHOTS = path.join(REPO, 'test-artifacts', 'screenshots');

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** False when Chromium is missing (its tests skip); under CI a missing Chromium throws instead (test/harness/requirements.ts). */
export const hasChromium = hasTestProgram(CHROMIUM);

/**
 * Builds the web app from the current sources into a private folder (so parallel test files never
 * share an output folder). Takes a second or two.
 */
export async function buildWebApp(): Promise<string> {
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-web-'));
  const { build } = await import('vite');
  await build({ configFile: path.join(REPO, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir, emptyOutDir: true } });
  return outDir;
}

export interface WebTestServer {
  app: FastifyInstance;
  origin: string;
  database: TestDatabase;
  /** The server's command environment (to run a feature's command as a worker would). */
  env: CommandEnv;
  admin: { email: string; password: string; name: string; token: string; accountId: string; userId: string };
  /** Calls the API as the admin (Bearer token). */
  api<T = any>(method: string, url: string, body?: unknown): Promise<{ status: number; body: T }>;
  close(): Promise<void>;
}

let counter = 0;

/** A connection inserted straight into the server's database (as the admin's, unless `userId`/`accountId` say otherwise). */
export function insertWebConnection(server: WebTestServer, o: Omit<Parameters<typeof insertConnection>[1], 'accountId' | 'userId'> & { accountId?: string; userId?: string }) {
  return insertConnection({ env: server.env, database: server.database }, { accountId: server.admin.accountId, userId: server.admin.userId, ...o });
}

/** `port` and `configEnv` (optional): a known port (e.g. for PUBLIC_URL and an OAuth redirect URI) and more configuration. */
export async function startWebServer(distDir: string, opts: { port?: number; configEnv?: Record<string, string> } = {}): Promise<WebTestServer> {
  const database = await createTestDatabase();
  const config = loadConfig({ DATA_DIR: database.dataDir, PORT: '0', ...opts.configEnv });
  const env = await makeCommandEnv(database, config);
  const app = await buildApp({ database, config, env, logger: false, webDistDir: distDir });
  await app.listen({ port: opts.port ?? 0, host: '127.0.0.1' });
  const origin = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  counter++;
  const tag = `${process.pid}-${counter}`;
  const password = 'correct horse battery';
  const email = `ada-${tag}@example.com`;
  const r = await createAccount(env, { name: 'Acme Inc', plan: 'professional', adminEmail: email, adminName: 'Ada Lovelace', adminPassword: password });
  // Undo send (issue 21): the browser tests' admin sends at once (default 10 s); test/web/undo-send.test.ts sets its own.
  await database.db.updateTable('users').set({ settings: JSON.stringify({ undoSendSeconds: 0 }) }).where('id', '=', r.adminUserId).execute();
  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(origin + url, {
      method,
      headers: { authorization: `Bearer ${r.apiToken}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  return {
    app,
    origin,
    database,
    env,
    admin: { email, password, name: 'Ada Lovelace', token: r.apiToken, accountId: r.accountId, userId: r.adminUserId },
    api,
    async close() {
      await app.close();
      await database.drop();
    },
  };
}

export async function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-quic',
      '--no-first-run',
      // Belt and braces: even a bug in the app could not reach the network from these tests.
      '--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1',
    ],
  });
}

export async function signIn(page: Page, origin: string, email: string, password: string): Promise<void> {
  await page.goto(origin + '/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
}


/**
 * A new browser context and page signed in as `who` (default: the admin), with the page's uncaught errors
 * collected in `errors`. `timeoutMs` sets the context's default timeout (Playwright's own otherwise).
 */
export async function signedInPage(
  browser: Browser,
  server: WebTestServer,
  o: { viewport?: { width: number; height: number }; who?: { email: string; password: string }; timeoutMs?: number } = {},
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: o.viewport ?? { width: 1280, height: 900 } });
  if (o.timeoutMs !== undefined) context.setDefaultTimeout(o.timeoutMs);
  const page = await context.newPage();
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const who = o.who ?? server.admin;
  await signIn(page, server.origin, who.email, who.password);
  return { context, page, errors };
}

export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  // Full-page shots of a scrolled page draw the sticky header mid-page: start from the top.
  if (opts.fullPage ?? true) await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
  return file;
}

/** axe-core's browser build (a devDependency), read once. */
let axeSource: string | null = null;

export interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  helpUrl: string;
  nodes: Array<{ target: string[]; html: string; failureSummary: string }>;
}

/**
 * Runs axe-core in the page as it is now and answers its violations (none: an empty list). The default
 * rules (WCAG 2.0/2.1/2.2 A and AA and axe's best practices) plus `label-content-name-mismatch` (WCAG 2.5.3,
 * experimental in axe, so off by default). axe-core is injected with the file's content: give the context
 * `bypassCSP: true`, as the app's Content-Security-Policy allows no inline script.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  axeSource ??= fs.readFileSync(path.join(REPO, 'node_modules/axe-core/axe.min.js'), 'utf8');
  if (!(await page.evaluate(() => 'axe' in window))) await page.addScriptTag({ content: axeSource });
  return page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run: (ctx: Document, opts: unknown) => Promise<{ violations: AxeViolation[] }> } }).axe;
    const r = await axe.run(document, { rules: { 'label-content-name-mismatch': { enabled: true } }, resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl, nodes: v.nodes.map((n) => ({ target: n.target.map(String), html: n.html, failureSummary: n.failureSummary })) }));
  });
}

/** One line per element that fails: rule, impact, what to fix, where. */
export function describeAxeViolations(violations: AxeViolation[]): string[] {
  return violations.flatMap((v) => v.nodes.map((n) => `${v.id} (${v.impact ?? 'n/a'}): ${v.help} at ${n.target.join(' ')}: ${n.html.slice(0, 160)}${n.failureSummary ? ` (${n.failureSummary.replace(/\s+/g, ' ').slice(0, 240)})` : ''}`));
}

/** Fails the test, listing each violation, when axe-core finds any in the page as it is now (`what` names the page in the message). */
export async function expectNoAxeViolations(page: Page, what: string = page.url()): Promise<void> {
  const found = describeAxeViolations(await axeViolations(page));
  expect(found, `accessibility violations on ${what}:\n${found.join('\n')}`).toEqual([]);
}
