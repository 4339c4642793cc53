/**
 * Inbound SMTP with STARTTLS (MAILROOM_SMTP_TLS_KEY / _CERT): with a self-signed certificate made here
 * by openssl, the server offers STARTTLS, a sender that requires TLS upgrades and its message is stored;
 * without the settings STARTTLS is not offered.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { startInbound } from '../../src/app/engine.js';
import { loadConfig } from '../../src/app/config.js';
import type { RunningInboundSmtp } from '../../src/mail/inbound-smtp.js';

let t: TestApp;
let dir: string;
const servers: RunningInboundSmtp[] = [];
beforeAll(async () => {
  t = await createTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-tls-'));
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=mx.mailroom.test', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
    { stdio: 'pipe' },
  );
});
afterAll(async () => {
  for (const s of servers) await s.close();
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<RunningInboundSmtp> {
  const config = loadConfig({ DATA_DIR: t.database.dataDir, ...env });
  const s = await startInbound(createIngestor(t.env), { port: 0, host: '127.0.0.1', log: pino({ level: 'silent' }), ...config.inbound });
  servers.push(s);
  return s;
}

describe('inbound SMTP STARTTLS', () => {
  it('the configuration wants both files or neither', () => {
    expect(() => loadConfig({ MAILROOM_SMTP_TLS_KEY: '/x/key.pem' })).toThrow(/MAILROOM_SMTP_TLS_CERT/);
    expect(() => loadConfig({ MAILROOM_SMTP_TLS_CERT: '/x/cert.pem' })).toThrow(/MAILROOM_SMTP_TLS_KEY/);
    expect(loadConfig({}).inbound.tls).toBeUndefined();
  });

  it('offers STARTTLS with the configured certificate; a sender that requires TLS delivers', async () => {
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'TLS' })).json();
    const address = `tls-${Date.now()}@acme.test`;
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address, inboxId: inbox.id });
    const smtp = await start({ MAILROOM_SMTP_TLS_KEY: path.join(dir, 'key.pem'), MAILROOM_SMTP_TLS_CERT: path.join(dir, 'cert.pem') });
    const to = conn.forwarding_address ?? address;
    let secured = false;
    // requireTLS: nodemailer refuses to send unless STARTTLS succeeds.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    const info = await transport.sendMail({ from: 'ann@example.org', to, subject: 'over TLS', text: 'secret', messageId: '<tls-1@example.org>' });
    secured = /Stored/.test(String(info.response));
    transport.close();
    expect(secured).toBe(true);
    const row = await t.env.db.selectFrom('messages').select(['subject']).where('connection_id', '=', conn.id).executeTakeFirst();
    expect(row?.subject).toBe('over TLS');
  });

  it('without the settings STARTTLS is not offered: a sender that requires TLS is refused', async () => {
    const smtp = await start({});
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    await expect(transport.sendMail({ from: 'ann@example.org', to: 'x@acme.test', subject: 'no', text: 'x' })).rejects.toThrow(/STARTTLS/i);
    transport.close();
  });
});
