/**
 * Inbound SMTP with STARTTLS (MAILROOM_SMTP_TLS_KEY / _CERT): with a self-signed certificate made here
 * by openssl, the server offers STARTTLS, a sender that requires TLS upgrades and its message is stored;
 * without the settings STARTTLS is not offered. Replacing the files changes the certificate the next
 * connection is shown (read by a real TLS client after STARTTLS), without a restart; a half-replaced
 * pair keeps the old one. MAILROOM_SMTP_REQUIRE_TLS: MAIL FROM before STARTTLS gets 530 (swaks), after it the message is stored.
 */
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { promisify } from 'node:util';
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
  makeCert('mx.mailroom.test', path.join(dir, 'key.pem'), path.join(dir, 'cert.pem'));
});

function makeCert(cn: string, keyFile: string, certFile: string): void {
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${cn}`, '-keyout', keyFile, '-out', certFile], { stdio: 'pipe' });
}

/** Connects, EHLO, STARTTLS, and returns the subject CN of the certificate the server presented. */
async function presentedCertificate(port: number): Promise<string> {
  const socket = net.connect(port, '127.0.0.1');
  let buffer = '';
  const waitFor = (re: RegExp) =>
    new Promise<string>((resolve, reject) => {
      const check = () => {
        const m = buffer.match(re);
        if (m) {
          socket.off('data', onData);
          buffer = '';
          resolve(m[0]);
        }
      };
      const onData = (d: Buffer) => {
        buffer += d.toString('latin1');
        check();
      };
      socket.on('data', onData);
      socket.once('error', reject);
      check();
    });
  await waitFor(/^220 .*\r\n/m);
  socket.write('EHLO client.test\r\n');
  await waitFor(/^250 .*\r\n/m);
  socket.write('STARTTLS\r\n');
  await waitFor(/^220 .*\r\n/m);
  const secure = tls.connect({ socket, rejectUnauthorized: false, servername: 'mx.mailroom.test' });
  await new Promise<void>((resolve, reject) => {
    secure.once('secureConnect', () => resolve());
    secure.once('error', reject);
  });
  const cn = String(secure.getPeerCertificate().subject?.CN ?? '');
  secure.end('QUIT\r\n');
  secure.destroy();
  return cn;
}
afterAll(async () => {
  for (const s of servers) await s.close();
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(env: Record<string, string>): Promise<RunningInboundSmtp> {
  // Sender authentication has its own tests with recorded DNS; here it would ask the real DNS.
  const config = loadConfig({ DATA_DIR: t.database.dataDir, MAILROOM_INBOUND_SENDER_AUTH: 'false', ...env });
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

  it('a renewed certificate is presented to the next connection without a restart; a mismatched pair keeps the old one', async () => {
    const live = fs.mkdtempSync(path.join(dir, 'live-'));
    const keyFile = path.join(live, 'key.pem');
    const certFile = path.join(live, 'cert.pem');
    fs.copyFileSync(path.join(dir, 'key.pem'), keyFile);
    fs.copyFileSync(path.join(dir, 'cert.pem'), certFile);
    const smtp = await start({ MAILROOM_SMTP_TLS_KEY: keyFile, MAILROOM_SMTP_TLS_CERT: certFile });
    expect(await presentedCertificate(smtp.port)).toBe('mx.mailroom.test');

    // Renewal as certbot does it: new files written, then moved into place.
    makeCert('renewed.mailroom.test', path.join(live, 'key.new'), path.join(live, 'cert.new'));
    // Half-way (only the key replaced): the pair does not match, the old certificate is still presented.
    fs.renameSync(path.join(live, 'key.new'), keyFile);
    expect(await presentedCertificate(smtp.port)).toBe('mx.mailroom.test');
    fs.renameSync(path.join(live, 'cert.new'), certFile);
    expect(await presentedCertificate(smtp.port)).toBe('renewed.mailroom.test');
    expect(await presentedCertificate(smtp.port)).toBe('renewed.mailroom.test');
  });

  it('MAILROOM_SMTP_REQUIRE_TLS: MAIL FROM before STARTTLS gets 530; after STARTTLS the message is stored', async () => {
    expect(() => loadConfig({ MAILROOM_SMTP_REQUIRE_TLS: 'true' })).toThrow(/MAILROOM_SMTP_REQUIRE_TLS/);
    expect(loadConfig({}).inbound.requireTls).toBe(false);
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Require TLS' })).json();
    const address = `reqtls-${Date.now()}@acme.test`;
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address, inboxId: inbox.id });
    const to = conn.forwarding_address ?? address;
    const smtp = await start({ MAILROOM_SMTP_TLS_KEY: path.join(dir, 'key.pem'), MAILROOM_SMTP_TLS_CERT: path.join(dir, 'cert.pem'), MAILROOM_SMTP_REQUIRE_TLS: 'true' });
    const swaks = (...extra: string[]) =>
      promisify(execFile)('swaks', [
        '--server',
        '127.0.0.1',
        '--port',
        String(smtp.port),
        '--from',
        'ann@example.org',
        '--to',
        to,
        '--header',
        'Subject: required TLS',
        '--body',
        'x',
        ...extra,
      ]).then(
        (r) => ({ code: 0, out: r.stdout + r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, out: e.stdout + e.stderr }),
      );
    const plain = await swaks();
    expect(plain.out).toMatch(/<\*\* 530 .*STARTTLS/);
    expect(plain.code).not.toBe(0);
    // After STARTTLS (nodemailer: swaks here lacks Net::SSLeay for --tls) the same message is stored.
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    const info = await transport.sendMail({ from: 'ann@example.org', to, subject: 'required TLS', text: 'x' });
    transport.close();
    expect(info.response).toMatch(/^250 .*Stored/);
    const rows = await t.env.db.selectFrom('messages').select(['subject']).where('connection_id', '=', conn.id).execute();
    expect(rows.map((r) => r.subject)).toEqual(['required TLS']);
  });

  it('without the settings STARTTLS is not offered: a sender that requires TLS is refused', async () => {
    const smtp = await start({});
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: smtp.port, secure: false, requireTLS: true, tls: { rejectUnauthorized: false } });
    await expect(transport.sendMail({ from: 'ann@example.org', to: 'x@acme.test', subject: 'no', text: 'x' })).rejects.toThrow(/STARTTLS/i);
    transport.close();
  });
});
