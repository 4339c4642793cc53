/**
 * Tenant isolation matrix: every API route with an id in its path is called by account A with ids that
 * belong to account B. Every answer must be 404 (never 403, never B's data). Routes are enumerated from
 * the OpenAPI document, so a new route is covered automatically: if its resource has no fixture below,
 * this test fails and asks for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/factory.js';
import { deliver, rawMail } from '../inbox/support.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

/** Creates one of everything in an account; returns resource-segment -> id. */
async function seed(a: { token: string; adminUserId: string; teamId: string; accountId: string }): Promise<Record<string, string>> {
  const ids: Record<string, string> = { users: a.adminUserId, teams: a.teamId };
  const ok = async (method: string, url: string, body?: unknown) => {
    const r = await t.api(a.token, method, url, body);
    expect(r.statusCode, `${method} ${url}: ${r.body}`).toBeLessThan(300);
    return r.json();
  };
  ids.tokens = (await ok('POST', '/api/v1/tokens', { name: 'matrix' })).id;
  ids['email-templates'] = (await ok('POST', '/api/v1/email-templates', { kind: 'template', name: 'Matrix', subject: 'Hi {{ contact.firstName | "there" }}', html: '<p>matrix</p>', shared: true })).id;
  ids.inboxes = (await ok('POST', '/api/v1/inboxes', { name: 'Matrix inbox' })).id;
  ids.webhooks = (await ok('POST', '/api/v1/webhooks', { url: 'https://hooks.example.org/matrix' })).id;
  const company = await ok('POST', '/api/v1/companies', { name: 'Matrix Co', domains: [`matrix-${a.accountId.slice(-6).toLowerCase()}.example`] });
  ids.companies = company.id;
  const contact = await ok('POST', '/api/v1/contacts', { firstName: 'Mat', lastName: 'Rix', emails: [`mat-${a.accountId.slice(-6).toLowerCase()}@example.org`] });
  ids.contacts = contact.id;
  // A connection (the test factory: connecting through the API needs mail servers) and a notification
  // (no command creates one on demand).
  const now = Date.now();
  const connection = await insertConnection(t, {
    accountId: a.accountId,
    userId: a.adminUserId,
    type: 'personal',
    address: `m-${a.accountId.toLowerCase()}@example.org`,
    imap: { host: 'imap.example.org', port: 993, username: 'm', password: 'pw' },
    smtp: { host: 'smtp.example.org', port: 465, username: 'm', password: 'pw' },
    overrides: { state: 'active' },
  });
  ids.connections = connection.id;
  const teamConnection = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `t-${a.accountId.toLowerCase()}@example.org`, inboxId: ids.inboxes });
  // A team conversation of the inbox (conversations inbox routes): mail stored through the ingest pipeline.
  ids.conversations = await deliver(t, teamConnection, rawMail({ subject: 'Matrix', to: teamConnection.address }));
  ids.notifications = `ntf_matrix_${a.accountId}`;
  await t.database.db.insertInto('notifications').values({ id: ids.notifications, account_id: a.accountId, user_id: a.adminUserId, kind: 'test', message: 'hello', data: '{}', created_at: now, read_at: null }).execute();
  // Personal email (006-personal): an email scheduled from the CRM (the real command) and a personal conversation.
  ids['personal-emails'] = (await ok('POST', `/api/v1/contacts/${ids.contacts}/emails`, { subject: 'matrix', html: '<p>matrix</p>', sendAt: new Date(now + 3_600_000).toISOString() })).id;
  ids['personal-conversations'] = await deliver(t, connection, rawMail({ subject: 'matrix', to: connection.address }));
  // A booking page (meetings) on the personal connection flagged for meetings.
  await ok('PATCH', `/api/v1/connections/${connection.id}`, { useForMeetings: true });
  ids['meeting-types'] = (await ok('POST', '/api/v1/meeting-types', { name: 'Matrix', slug: `matrix-${a.accountId.slice(-8).toLowerCase().replace(/[^a-z0-9]/g, 'x')}`, durationMin: 30, availability: { timeZone: 'UTC', weekly: {} } })).id;
  // Sequences (016-sequences): a sequence, and the contact enrolled in it from the personal connection.
  ids.sequences = (await ok('POST', '/api/v1/sequences', { name: 'Matrix', steps: [{ type: 'email', subject: 'Hi', html: '<p>matrix</p>' }] })).id;
  ids['sequence-enrollments'] = (await ok('POST', `/api/v1/sequences/${ids.sequences}/enrollments`, { contactId: ids.contacts, connectionId: ids.connections })).id;
  return ids;
}

/** A body that passes schema validation for each mutating route, so the 404 comes from the lookup. */
function bodyFor(method: string, path: string, schema: any): unknown {
  if (method === 'GET' || method === 'DELETE') return undefined;
  const content = schema?.requestBody?.content?.['application/json']?.schema;
  if (!content) return method === 'POST' ? undefined : {};
  const example: Record<string, unknown> = {};
  for (const name of content.required ?? []) {
    const p = content.properties?.[name] ?? {};
    example[name] = p.enum ? p.enum[0] : p.type === 'integer' || p.type === 'number' ? 1 : p.type === 'boolean' ? true : p.type === 'array' ? Array.from({ length: p.minItems ?? 0 }, () => 'INBOX') : p.type === 'object' ? {} : 'matrix@example.org';
  }
  if (path.endsWith('/release')) example.action = 'disconnect';
  return example;
}

describe('tenant isolation', () => {
  it('answers 404 for every route called with another account\'s ids', async () => {
    const a = await t.account('enterprise');
    const b = await t.account('enterprise');
    await seed(a);
    const idsB = await seed(b);
    const doc = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    const checked: string[] = [];
    const missing: string[] = [];
    for (const [path, ops] of Object.entries<any>(doc.paths)) {
      if (!path.startsWith('/api/v1/') || !path.includes('{')) continue;
      const resource = path.split('/')[3]!;
      const id = idsB[resource];
      if (!id && Object.values<any>(ops).every((op) => Array.isArray(op.security) && op.security.length === 0)) continue;
      if (!id) {
        missing.push(path);
        continue;
      }
      for (const [m, op] of Object.entries<any>(ops)) {
        // Public by design (`security: []`: a booking page by its slug, a booking by its signed link):
        // anyone may call them, whatever their account; test/meetings checks what they reveal.
        if (Array.isArray(op.security) && op.security.length === 0) continue;
        const method = m.toUpperCase();
        const url = path.replace(/\{[^}]+\}/g, id);
        const res = await t.api(a.token, method, url, bodyFor(method, path, op));
        checked.push(`${method} ${path}`);
        expect(res.statusCode, `${method} ${url} answered ${res.statusCode}: ${res.body}`).toBe(404);
        expect(res.json().error.code).toBe('not_found');
        expect(res.body).not.toContain(b.accountId);
      }
    }
    expect(missing, 'routes whose resource has no fixture in this test: add one').toEqual([]);
    expect(checked.length).toBeGreaterThan(15);
    // B's things are untouched.
    const still = await t.api(b.token, 'GET', `/api/v1/contacts/${idsB.contacts}`);
    expect(still.statusCode).toBe(200);
  });
});
