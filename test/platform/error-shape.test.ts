/**
 * One error shape everywhere: a walk of failing requests across the features (bad bodies, unknown
 * routes and ids, missing auth, permission refusals, conflicts, refusals naming a holder, an SSRF host)
 * whose every body must validate against the OpenAPI document's `Error` schema, which itself must be
 * the whole shape ({"error": {code, message, holder?, resolution?, details?}}, details an object) and be
 * referenced by every operation's 4xx and 5xx responses.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Ajv } from 'ajv'; // Fastify's validator (hoisted from fastify's dependencies)
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { ERROR_CODES } from '../../src/platform/errors.js';

let t: TestApp;
let openapi: any;
beforeAll(async () => {
  t = await createTestApp();
  openapi = (await t.app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
});
afterAll(async () => {
  await t?.close();
});

const uniq = () => Math.random().toString(36).slice(2, 10);

/** The `Error` component, with its internal references resolved for a plain JSON-schema validator. */
function errorSchemaOf(doc: any): object {
  const schema = doc.components?.schemas?.Error;
  expect(schema, 'components.schemas.Error').toBeDefined();
  return schema;
}

describe('the OpenAPI document documents the one error shape once', () => {
  it('has an Error component with code, message, holder, resolution and details (an object), nothing else', () => {
    const schema = errorSchemaOf(openapi) as any;
    expect(schema.required).toEqual(['error']);
    expect(schema.additionalProperties).toBe(false);
    const inner = schema.properties.error;
    expect(Object.keys(inner.properties).sort()).toEqual(['code', 'details', 'holder', 'message', 'resolution']);
    expect(inner.required).toEqual(['code', 'message']);
    expect(inner.additionalProperties).toBe(false);
    expect(inner.properties.details.type).toBe('object');
    expect(inner.properties.holder.type).toBe('object');
    expect(inner.properties.code.enum).toEqual([...ERROR_CODES]);
  });

  it('every /api operation answers its 4xx and 5xx with a reference to the Error component', () => {
    const missing: string[] = [];
    let operations = 0;
    for (const [path, ops] of Object.entries(openapi.paths as Record<string, Record<string, any>>)) {
      for (const [method, op] of Object.entries(ops)) {
        if (!path.startsWith('/api/')) continue;
        operations += 1;
        for (const status of ['4XX', '5XX']) {
          const ref = op.responses?.[status]?.content?.['application/json']?.schema?.$ref;
          if (ref !== '#/components/schemas/Error') missing.push(`${method.toUpperCase()} ${path} ${status}: ${JSON.stringify(op.responses?.[status] ?? null)}`);
        }
      }
    }
    expect(operations).toBeGreaterThan(50);
    expect(missing).toEqual([]);
  });
});

describe('every failing request answers in the one shape', () => {
  it('bad bodies, unknown routes and ids, auth, permissions, conflicts, holders and SSRF hosts', async () => {
    const ajv = new Ajv({ strict: false, allErrors: true });
    const validate = ajv.compile(errorSchemaOf(openapi));
    // The schema is strict: the old shapes do not pass.
    expect(validate({ error: { code: 'invalid_request', message: 'm', field: 'name' } })).toBe(false);
    expect(validate({ error: { code: 'invalid_request', message: 'm', details: [{ field: 'name' }] } })).toBe(false);
    expect(validate({ error: { code: 'no_such_code', message: 'm' } })).toBe(false);
    expect(validate({ error: { code: 'not_found', message: 'm' }, stack: 'at x' })).toBe(false);
    expect(validate({ error: { code: 'not_found', message: 'm', details: { field: 'id' } } })).toBe(true);
    const a = await t.account();
    const other = await t.account();

    // A member without admin rights, with their own token.
    const created = await t.api(a.token, 'POST', '/api/v1/users', { email: `m-${uniq()}@acme.test`, name: 'Mo Member', password: 'member-password' });
    expect(created.statusCode, created.body).toBe(201);
    const memberId = created.json().user.id as string;
    const memberToken = (await t.api(a.token, 'POST', '/api/v1/tokens', { name: 'test', userId: memberId })).json().token as string;

    // Things to collide with.
    const team = `Team ${uniq()}`;
    expect((await t.api(a.token, 'POST', '/api/v1/teams', { name: team })).statusCode).toBe(201);
    const email = `ann-${uniq()}@example.net`;
    const ann = await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Ann', emails: [email] });
    expect(ann.statusCode, ann.body).toBe(201);
    const domain = `acme-${uniq()}.test`;
    expect((await t.api(a.token, 'POST', '/api/v1/companies', { name: 'Acme', domains: [domain] })).statusCode).toBe(201);
    const held = `held-${uniq()}@example.test`;
    await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'personal', address: held, smtp: { host: 'smtp.example.test', port: 587, username: held, password: 'pw' } });
    const otherContact = (await t.api(other.token, 'POST', '/api/v1/contacts', { firstName: 'Secret', emails: [`s-${uniq()}@example.net`] })).json().id as string;

    const imapBody = (host: string) => ({
      type: 'personal',
      address: `ssrf-${uniq()}@example.test`,
      transport: 'imap',
      imap: { host, port: 993, tls: 'tls', password: 'pw' },
      smtp: { host: 'smtp.example.test', port: 587, tls: 'starttls', password: 'pw' },
    });

    type Case = { what: string; status: number; code: string; send: () => Promise<{ statusCode: number; body: string }>; details?: Record<string, unknown>; holder?: boolean };
    const cases: Case[] = [
      { what: 'bad body (schema validation)', status: 400, code: 'invalid_request', send: () => t.api(a.token, 'POST', '/api/v1/users', { email: 'x@example.com' }), details: { field: 'name' } },
      { what: 'bad body (wrong type)', status: 400, code: 'invalid_request', send: () => t.api(a.token, 'POST', '/api/v1/teams', { name: 42, extra: { deep: [1] } }) },
      {
        what: 'unreadable JSON',
        status: 400,
        code: 'invalid_request',
        send: () => t.app.inject({ method: 'POST', url: '/api/v1/teams', headers: { authorization: `Bearer ${a.token}`, 'content-type': 'application/json' }, payload: '{"name":' }),
      },
      { what: 'bad value (command check)', status: 400, code: 'invalid_request', send: () => t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'x'.repeat(1000) }), details: { field: 'firstName' } },
      { what: 'bad cursor', status: 400, code: 'invalid_cursor', send: () => t.api(a.token, 'GET', '/api/v1/contacts?cursor=not-a-cursor'), details: { field: 'cursor' } },
      { what: 'unknown route', status: 404, code: 'not_found', send: () => t.api(a.token, 'GET', '/api/v1/no-such-thing') },
      { what: 'unknown route outside the API', status: 404, code: 'not_found', send: () => t.app.inject({ method: 'GET', url: '/t/c/nope' }) },
      { what: 'unknown contact id', status: 404, code: 'not_found', send: () => t.api(a.token, 'GET', '/api/v1/contacts/ct_nope') },
      { what: "another account's contact", status: 404, code: 'not_found', send: () => t.api(a.token, 'GET', `/api/v1/contacts/${otherContact}`) },
      { what: 'unknown connection id', status: 404, code: 'not_found', send: () => t.api(a.token, 'GET', '/api/v1/connections/con_nope') },
      { what: 'unknown company id', status: 404, code: 'not_found', send: () => t.api(a.token, 'DELETE', '/api/v1/companies/cmp_nope') },
      { what: 'no credentials', status: 401, code: 'unauthenticated', send: () => t.app.inject({ method: 'GET', url: '/api/v1/contacts' }) },
      { what: 'revoked or bogus token', status: 401, code: 'unauthenticated', send: () => t.api('mr_bogus', 'GET', '/api/v1/contacts') },
      { what: 'permission denied (member creates a user)', status: 403, code: 'permission_denied', send: () => t.api(memberToken, 'POST', '/api/v1/users', { email: `x-${uniq()}@acme.test`, name: 'X', password: 'member-password' }) },
      { what: 'permission denied (member deletes a company)', status: 403, code: 'permission_denied', send: () => t.api(memberToken, 'DELETE', `/api/v1/companies/cmp_nope`) },
      { what: 'conflict: team name', status: 409, code: 'team_name_taken', send: () => t.api(a.token, 'POST', '/api/v1/teams', { name: team }) },
      { what: 'conflict: contact email', status: 409, code: 'contact_email_taken', send: () => t.api(a.token, 'POST', '/api/v1/contacts', { firstName: 'Other', emails: [email] }), details: { email, field: 'emails' } },
      { what: 'conflict: company domain', status: 409, code: 'company_domain_taken', send: () => t.api(a.token, 'POST', '/api/v1/companies', { name: 'Other', domains: [domain] }), details: { domain, field: 'domains' } },
      {
        what: 'conflict naming the holder: address in use',
        status: 409,
        code: 'address_in_use',
        holder: true,
        send: () => t.api(a.token, 'POST', '/api/v1/connections', { ...imapBody('imap.example.test'), address: held }),
      },
      { what: 'SSRF: link-local IMAP host', status: 422, code: 'host_not_allowed', send: () => t.api(a.token, 'POST', '/api/v1/connections', imapBody('169.254.169.254')), details: { field: 'imap.host' } },
      { what: 'SSRF: loopback IMAP host', status: 422, code: 'host_not_allowed', send: () => t.api(a.token, 'POST', '/api/v1/connections', imapBody('127.0.0.1')), details: { field: 'imap.host' } },
      { what: 'SSRF: image proxy', status: 403, code: 'host_not_allowed', send: () => t.api(a.token, 'GET', `/api/v1/image-proxy?url=${encodeURIComponent('http://169.254.169.254/x.png')}`) },
    ];

    const before = process.env.MAILROOM_ALLOW_PRIVATE_HOSTS;
    process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = '';
    const seen: string[] = [];
    try {
      for (const c of cases) {
        const r = await c.send();
        const body = JSON.parse(r.body);
        const where = `${c.what}: ${r.body}`;
        expect([r.statusCode, body.error?.code], where).toEqual([c.status, c.code]);
        expect(validate(body), `${where}\n${JSON.stringify(validate.errors)}`).toBe(true);
        // The schema already forbids other keys; say it plainly too, with what must never be there.
        expect(Object.keys(body), where).toEqual(['error']);
        for (const key of Object.keys(body.error)) expect(['code', 'message', 'holder', 'resolution', 'details'], where).toContain(key);
        if ('details' in body.error) {
          expect(typeof body.error.details, where).toBe('object');
          expect(Array.isArray(body.error.details), where).toBe(false);
          expect(body.error.details, where).not.toBeNull();
        }
        expect(body.error.message.length, where).toBeGreaterThan(10);
        expect(r.body, where).not.toMatch(/\bat [\w.<>]+ \(|node_modules|\.ts:\d+/);
        if (c.details) expect(body.error.details, where).toMatchObject(c.details);
        if (c.holder) {
          expect(body.error.holder, where).toMatchObject({ kind: 'personal', userId: a.adminUserId });
          expect(body.error.resolution, where).toEqual(expect.any(String));
        }
        seen.push(c.code);
      }
    } finally {
      if (before === undefined) delete process.env.MAILROOM_ALLOW_PRIVATE_HOSTS;
      else process.env.MAILROOM_ALLOW_PRIVATE_HOSTS = before;
    }
    expect(seen).toHaveLength(cases.length);
  });

  it('a validation error lists every problem under details.errors, and names the first in details.field', async () => {
    const a = await t.account();
    const r = await t.api(a.token, 'POST', '/api/v1/users', {});
    expect(r.statusCode).toBe(400);
    const { details } = r.json().error;
    expect(details.field).toEqual(expect.any(String));
    expect(details.errors).toEqual(expect.arrayContaining([expect.objectContaining({ field: details.field, problem: expect.any(String) })]));
  });
});
