/**
 * Tenant isolation matrix: every API route with an id in its path is called by account A with ids that
 * belong to account B. Every answer must be 404 (never 403, never B's data). Routes are enumerated from
 * the OpenAPI document, so a new route is covered automatically: if its resource has no fixture below,
 * this test fails and asks for one.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';

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
  const company = await ok('POST', '/api/v1/companies', { name: 'Matrix Co', domains: [`matrix-${a.accountId.slice(-6).toLowerCase()}.example`] });
  ids.companies = company.id;
  const contact = await ok('POST', '/api/v1/contacts', { firstName: 'Mat', lastName: 'Rix', emails: [`mat-${a.accountId.slice(-6).toLowerCase()}@example.org`] });
  ids.contacts = contact.id;
  // A connection and a notification written directly: creating them through the API needs mail servers.
  const now = Date.now();
  ids.connections = `con_matrix_${a.accountId}`;
  await t.database.db
    .insertInto('connections')
    .values({
      id: ids.connections, account_id: a.accountId, type: 'personal', address: `m-${a.accountId}@example.org`, address_key: `m-${a.accountId.toLowerCase()}@example.org`,
      user_id: a.adminUserId, inbox_id: null, transport: 'imap', state: 'active', stage: null, stage_started_at: null, progress_done: 0, progress_total: null,
      failure_count: 0, last_error_code: null, last_error_message: null, last_error_at: null, imap_host: 'imap.example.org', imap_port: 993, imap_tls: 'tls',
      imap_username: 'm', smtp_host: 'smtp.example.org', smtp_port: 465, smtp_tls: 'tls', smtp_username: 'm', credentials: null, sent_folder: 'Sent', folders: '[]',
      sync_window_days: 90, is_default_from: 1, use_for_meetings: 0, forwarding_address: null, sender_name_mode: null, sender_name_custom: null, signature: null,
      send_limit_day: null, send_limit_minute: null, forwarding_test_token: null, forwarding_test_requested_at: null, forwarding_test_sent_at: null, forwarding_test_error: null, forwarding_verified_at: null, created_at: now, updated_at: now, disconnected_at: null, disconnected_by: null,
    })
    .execute();
  // A team conversation of the inbox (conversations inbox routes), written directly: it needs inbound mail.
  ids.conversations = `cnv_team_matrix_${a.accountId}`;
  await t.database.db
    .insertInto('conversations')
    .values({ id: ids.conversations, account_id: a.accountId, kind: 'team', inbox_id: ids.inboxes, connection_id: ids.connections, owner_user_id: null, subject: 'Matrix', base_subject: 'matrix', status: 'open', snoozed_until: null, assignee_id: null, contact_id: null, participants: '[]', message_count: 0, last_message_at: now, last_inbound_at: null, created_at: now, updated_at: now, deleted_at: null })
    .execute();
  ids.notifications = `ntf_matrix_${a.accountId}`;
  await t.database.db.insertInto('notifications').values({ id: ids.notifications, account_id: a.accountId, user_id: a.adminUserId, kind: 'test', message: 'hello', data: '{}', created_at: now, read_at: null }).execute();
  // Personal email (006-personal): an email sent from the CRM and a personal conversation, written directly.
  ids['personal-emails'] = `pem_matrix_${a.accountId}`;
  await t.database.db
    .insertInto('personal_emails')
    .values({ id: ids['personal-emails'], account_id: a.accountId, user_id: a.adminUserId, connection_id: ids.connections, outbox_id: `out_matrix_${a.accountId}`, conversation_id: null, contact_id: ids.contacts!, company_id: null, subject: 'matrix', logged: 0, log_contact_ids: '[]', track_opens: 0, track_clicks: 0, link_count: 0, replaced_by: null, created_at: now })
    .execute();
  ids['personal-conversations'] = `cnv_matrix_${a.accountId}`;
  await t.database.db
    .insertInto('conversations')
    .values({ id: ids['personal-conversations'], account_id: a.accountId, kind: 'personal', inbox_id: null, connection_id: ids.connections, owner_user_id: a.adminUserId, subject: 'matrix', base_subject: 'matrix', status: 'open', snoozed_until: null, assignee_id: null, contact_id: null, participants: '[]', message_count: 0, last_message_at: now, last_inbound_at: null, created_at: now, updated_at: now, deleted_at: null })
    .execute();
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
    example[name] = p.enum ? p.enum[0] : p.type === 'integer' || p.type === 'number' ? 1 : p.type === 'boolean' ? true : p.type === 'array' ? [] : p.type === 'object' ? {} : 'matrix@example.org';
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
      if (!id) {
        missing.push(path);
        continue;
      }
      for (const [m, op] of Object.entries<any>(ops)) {
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
