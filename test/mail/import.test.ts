/**
 * `mailroom import`: mbox (with >From quoting), Maildir and a folder of .eml files go through the same
 * pipeline as live mail; a re-run imports nothing new. Fixtures are generated here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { importMail, readMbox, ReadAhead } from '../../src/features/ingest/import-mail.js';

let t: TestApp;
let dir: string;
beforeAll(async () => {
  t = await createTestApp();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-import-'));
});
afterAll(async () => {
  await t?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const msg = (id: string, subject: string, body: string, extra = '') =>
  `From: Ann <ann@example.org>\nTo: support@acme.test\nSubject: ${subject}\nMessage-ID: <${id}>\nDate: Tue, 01 Sep 2026 10:00:00 +0000\n${extra}\n${body}\n`;

describe('import', () => {
  it('splits an mbox and undoes >From quoting', async () => {
    const file = path.join(dir, 'a.mbox');
    fs.writeFileSync(file, `From ann@example.org Tue Sep  1 10:00:00 2026\n${msg('m1@x', 'one', 'line\n>From the start')}\nFrom bob@example.org Tue Sep  1 11:00:00 2026\n${msg('m2@x', 'two', 'second')}`);
    const out: string[] = [];
    for await (const m of readMbox(file)) out.push(m.toString());
    expect(out).toHaveLength(2);
    expect(out[0]).toContain('\nFrom the start');
    expect(out[0]).not.toContain('>From the start');
    expect(out[1]).toContain('Subject: two');
  });

  it('splits a large mbox read in chunks into the same bytes as its messages (lines across chunk boundaries, >From unquoted)', async () => {
    const messages: string[] = [];
    for (let i = 0; i < 400; i++) messages.push(msg(`big${i}@x`, `n${i}`, `${'body line of some length\n'.repeat(200 + (i % 37))}${i % 3 === 0 ? '>From the quoted line\n' : ''}end ${i}`));
    const file = path.join(dir, 'big.mbox');
    fs.writeFileSync(file, messages.map((m) => `From a@b Tue Sep  1 10:00:00 2026\n${m.replace(/^>From /gm, '>>From ')}\n`).join(''));
    expect(fs.statSync(file).size).toBeGreaterThan(2 * 1024 * 1024); // several 1 MB reads
    const out: string[] = [];
    for await (const m of readMbox(file)) out.push(m.toString());
    expect(out).toEqual(messages.map((m) => `${m}\n`));
  });

  it('reads ahead of its consumer, at most the given number of messages, in order, each started once', async () => {
    const root = path.join(dir, 'ahead');
    fs.mkdirSync(root, { recursive: true });
    for (let i = 0; i < 30; i++) fs.writeFileSync(path.join(root, `${String(i).padStart(2, '0')}.eml`), msg(`ah${i}@x`, `n${i}`, 'body'));
    const started: string[] = [];
    const ahead = new ReadAhead(root, (raw) => started.push(raw.toString()), 5);
    expect(await ahead.files).toHaveLength(30);
    await new Promise((r) => setTimeout(r, 50));
    expect(started).toHaveLength(5); // nothing consumed yet
    const seen: string[] = [];
    for await (const m of ahead.messages()) {
      expect(ahead.take(m.raw)).toBe(started.indexOf(m.raw.toString()) + 1);
      expect(ahead.take(m.raw)).toBeUndefined();
      expect(started.length - seen.length).toBeLessThanOrEqual(6); // 5 ahead, and the one being handed over
      seen.push(m.raw.toString());
    }
    expect(seen).toEqual(started);
    expect(seen.map((s) => /Subject: (n\d+)/.exec(s)![1])).toEqual(Array.from({ length: 30 }, (_, i) => `n${i}`));
  });

  it('imports an mbox, a Maildir and a folder of .eml files, threads them, and is idempotent', async () => {
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Imported' })).json();
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `imp-${Date.now()}@acme.test`, inboxId: inbox.id });
    const root = path.join(dir, 'mixed');
    fs.mkdirSync(path.join(root, 'Maildir', 'cur'), { recursive: true });
    fs.mkdirSync(path.join(root, 'Maildir', 'new'), { recursive: true });
    fs.mkdirSync(path.join(root, 'Maildir', 'tmp'), { recursive: true });
    fs.mkdirSync(path.join(root, 'eml'), { recursive: true });
    fs.writeFileSync(path.join(root, 'box.mbox'), `From a@b Tue Sep  1 10:00:00 2026\n${msg('t1@x', 'Pricing', 'first')}\nFrom a@b Tue Sep  1 10:05:00 2026\n${msg('t2@x', 'Re: Pricing', 'reply', 'In-Reply-To: <t1@x>\n')}`);
    fs.writeFileSync(path.join(root, 'Maildir', 'cur', '1.host:2,S'), msg('md1@x', 'From maildir', 'cur'));
    fs.writeFileSync(path.join(root, 'Maildir', 'new', '2.host'), msg('md2@x', 'Re: Pricing', 'late', 'References: <t1@x> <t2@x>\n'));
    fs.writeFileSync(path.join(root, 'Maildir', 'tmp', 'partial'), 'half written');
    fs.writeFileSync(path.join(root, 'eml', 'a.eml'), msg('e1@x', 'Eml one', 'eml'));
    fs.writeFileSync(path.join(root, 'eml', 'broken.eml'), 'this is not really an email at all');
    fs.writeFileSync(path.join(root, 'README.md'), '# not mail');
    const ingestor = createIngestor(t.env);
    const first = await importMail(ingestor, conn, root, { batchSize: 2 });
    expect(first).toMatchObject({ messages: 6, imported: 6, duplicates: 0, failed: 0 });
    expect(first.malformed).toBeGreaterThanOrEqual(1);
    const pricing = await t.database.db.selectFrom('messages').select(['conversation_id', 'message_id']).where('connection_id', '=', conn.id).where('message_id', 'in', ['t1@x', 't2@x', 'md2@x']).execute();
    expect(new Set(pricing.map((p) => p.conversation_id)).size).toBe(1);
    expect(first.conversationsFormed).toBe(4);
    const again = await importMail(ingestor, conn, root);
    expect(again).toMatchObject({ messages: 6, imported: 0, duplicates: 6 });
  });

  it('a file that starts with a "From " line is one message unless it has the mbox shape', async () => {
    const forwarded = `From bob@example.org Tue Sep  1 12:00:00 2026\n${msg('fw1@x', 'Fwd: hello', 'See below.\n\n---------- Forwarded message ---------\nFrom ann@example.org Tue Sep  1 10:00:00 2026\nFrom: Ann <ann@example.org>\nSubject: hello\n\nhi')}`;
    const sentence = `From bob@example.org Tue Sep  1 12:00:00 2026\n${msg('fw2@x', 'Notes', 'First paragraph.\n\nFrom what I saw on Tuesday, it works.\n\n>From the archive: ok')}`;
    const cases: Array<[string, string, number]> = [
      ['a quoted original with its own "From " line (no blank line before it)', forwarded, 1],
      ['a sentence starting with "From " after a blank line (not a separator)', sentence, 1],
      [
        'two messages in the mbox shape',
        `From a@b Tue Sep  1 10:00:00 2026\n${msg('mb1@x', 'one', 'first')}\nFrom a@b Tue Sep  1 10:05:00 2026\n${msg('mb2@x', 'two', 'second')}`,
        2,
      ],
      [
        'a separator-like line without the blank line before it',
        `From a@b Tue Sep  1 10:00:00 2026\n${msg('mb3@x', 'one', 'first')}From a@b Tue Sep  1 10:05:00 2026\nstill the first`,
        1,
      ],
    ];
    for (const [label, content, expected] of cases) {
      const file = path.join(dir, `shape-${expected}-${label.length}.eml`);
      fs.writeFileSync(file, content);
      const out: string[] = [];
      for await (const m of readMbox(file)) out.push(m.toString());
      expect(out, label).toHaveLength(expected);
    }
    // Through the import path, on the database under test: one message, the quoted line kept.
    const a = await t.account();
    const inbox = (await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Shapes' })).json();
    const conn = await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `shape-${Date.now()}@acme.test`, inboxId: inbox.id });
    const root = path.join(dir, 'shapes');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'forwarded.eml'), forwarded);
    fs.writeFileSync(path.join(root, 'sentence.eml'), sentence);
    const summary = await importMail(createIngestor(t.env), conn, root);
    expect(summary).toMatchObject({ files: 2, messages: 2, imported: 2, failed: 0 });
    const rows = await t.database.db.selectFrom('messages').select(['message_id', 'subject']).where('connection_id', '=', conn.id).orderBy('message_id').execute();
    expect(rows.map((r) => [r.message_id, r.subject])).toEqual([
      ['fw1@x', 'Fwd: hello'],
      ['fw2@x', 'Notes'],
    ]);
  });

  it('is available as `mailroom import` with a summary', async () => {
    if (process.env.DATABASE_URL) return; // the CLI test uses the embedded database of a temp folder
    const data = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-cli-'));
    const run = (args: string[]) => promisify(execFile)('node', ['bin/mailroom.js', ...args], { env: { ...process.env, DATA_DIR: data, LOG_LEVEL: 'warn' } });
    const acc = JSON.parse((await run(['account', 'create', '--name', 'CLI', '--plan', 'starter', '--admin-email', `cli-${Date.now()}@example.org`])).stdout);
    expect(acc).toMatchObject({ accountId: expect.stringMatching(/^acc_/), apiToken: expect.stringMatching(/^mr_/) });
    const help = (await run(['import', '--help'])).stdout;
    expect(help).toMatch(/--connection/);
    const missing = await run(['import', '--connection', 'con_nope', dir]).catch((e: { stderr: string; code: number }) => e);
    expect((missing as { code: number }).code).toBe(2);
    expect((missing as { stderr: string }).stderr).toMatch(/not_found/);
    fs.rmSync(data, { recursive: true, force: true });
  });
});
