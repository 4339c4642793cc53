/**
 * A REAL out-of-office: the contact's mailbox runs a Pigeonhole Sieve `vacation` script (Dovecot LMTP),
 * the sequence email is delivered to it, Dovecot writes its auto-reply (handed to a sendmail stand-in that
 * keeps it), the reply is delivered to the seller's mailbox, Mailroom syncs it: the enrollment pauses, and
 * resumes one business day after the return date the auto-reply states. SQLite or PostgreSQL (DATABASE_URL).
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { contact, startWorld, syncSeller, uniq, type World } from '../personal/support.js';
import { startDovecot, type TestDovecot } from '../harness/dovecot.js';
import { runEnrollmentStep } from '../../src/features/sequences/commands/runDueSteps.js';

let w: World;
let away: TestDovecot;
let outDir: string;

beforeAll(async () => {
  w = await startWorld();
  // The contact's own mail server, with Sieve on LMTP delivery; its outgoing mail goes to a folder.
  outDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-vacation-'));
  fs.chmodSync(outDir, 0o777);
  const sendmail = path.join(outDir, 'sendmail.sh');
  fs.writeFileSync(sendmail, `#!/bin/sh\ncat > "${outDir}/out-$$-$(date +%s%N).eml"\n`);
  fs.chmodSync(sendmail, 0o755);
  away = await startDovecot({
    extraConfig: [
      'protocol lmtp {',
      '  mail_plugins = $mail_plugins sieve',
      '}',
      'plugin {',
      '  sieve = file:~/sieve;active=~/.dovecot.sieve',
      '  sieve_vacation_min_period = 0',
      '  sieve_vacation_dont_check_recipient = yes',
      '}',
      `sendmail_path = ${sendmail}`,
    ].join('\n'),
  });
}, 60_000);
afterAll(async () => {
  await away?.stop();
  await w?.stop();
  fs.rmSync(outDir, { recursive: true, force: true });
});

describe('a real Sieve vacation auto-reply', () => {
  it('pauses the enrollment and resumes it one business day after the stated return date', async () => {
    const email = `ooo-${uniq()}@client.test`;
    await away.addUser(email, 'pw');
    const back = new Date(Date.now() + 10 * 24 * 3600_000).toISOString().slice(0, 10);
    const home = path.join(away.dir, 'mail', email.toLowerCase());
    fs.mkdirSync(home, { recursive: true });
    fs.writeFileSync(path.join(home, '.dovecot.sieve'), `require ["vacation"];\nvacation :days 1 :subject "Out of office" "I am away and will be back on ${back}. For urgent matters, write to my colleague.";\n`);
    const st = fs.statSync(path.join(away.dir, 'mail'));
    for (const p of [home, path.join(home, '.dovecot.sieve')]) fs.chownSync(p, st.uid, st.gid);

    const oona = await contact(w, { firstName: 'Oona', emails: [email] });
    const seq = await w.t.api(w.seller.token, 'POST', '/api/v1/sequences', {
      name: `Vacation ${uniq()}`,
      settings: { timeZone: 'UTC', window: { start: '00:00', end: '23:59' }, weekdays: [1, 2, 3, 4, 5] },
      steps: [
        { type: 'email', subject: 'Quick question', html: '<p>Hi {{ contact.firstName }}, do you have a minute?</p>' },
        { type: 'email', delay: { unit: 'business_days', value: 1 }, html: '<p>Following up.</p>' },
      ],
    });
    expect(seq.statusCode, seq.body).toBe(201);
    const e = (await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.json().id}/enrollments`, { contactId: oona.id })).json();
    const deps = { putBlob: (raw: Buffer) => w.ingestor.blobs.put(raw), replyTokenSecret: w.ingestor.replyTokenSecret };
    // Weekdays only: the first step may wait for Monday.
    const due = Date.parse(e.nextStep.dueAt) + 1000;
    expect(await runEnrollmentStep({ ...w.t.env, now: () => due }, deps, e.id)).toBe('queued');

    // The email as sent (the outbox's MIME), delivered to the contact's server. Pigeonhole's vacation
    // never answers mail with List-* headers (RFC 5230 says not to answer mailing lists): with our RFC 8058
    // List-Unsubscribe header, a Sieve server stays silent, so for such contacts replies and bounces are
    // what stop the sequence. (Exchange and Gmail out-of-office answer regardless; those arrive as below.)
    const run = await w.t.database.db.selectFrom('sequence_steps_run').innerJoin('outbox', 'outbox.id', 'sequence_steps_run.outbox_id').select('outbox.raw_sha256').where('enrollment_id', '=', e.id).executeTakeFirstOrThrow();
    const sent = (await w.ingestor.blobs.get(run.raw_sha256)).toString('utf8');
    const waitForReplies = async (n: number) => {
      let replies: string[] = [];
      for (let i = 0; i < 30 && replies.length < n; i++) {
        replies = fs.readdirSync(outDir).filter((f) => f.endsWith('.eml'));
        if (replies.length < n) await new Promise((r) => setTimeout(r, 100));
      }
      return replies;
    };
    await away.deliver(email, sent, { from: w.seller.address });
    expect(await waitForReplies(1)).toEqual([]);
    expect(await away.readLog()).toMatch(/discarding vacation response to mailinglist recipient/);

    // The same email without the List-* headers (what a server answering regardless sees): Sieve answers.
    const plain = sent.replace(/^List-Unsubscribe(-Post)?:.*(\r?\n[ \t].*)*\r?\n/gim, '');
    expect(plain).not.toMatch(/^List-/im);
    await away.deliver(email, plain, { from: w.seller.address });
    const replies = await waitForReplies(1);
    expect(replies, `no vacation reply; Dovecot log:\n${(await away.readLog()).split('\n').filter((l) => /sieve/i.test(l)).slice(-20).join('\n')}`).toHaveLength(1);
    const reply = fs.readFileSync(path.join(outDir, replies[0]!), 'utf8');
    expect(reply).toMatch(/^Auto-Submitted: auto-replied/im);

    await w.dovecot.deliver(w.seller.address, reply, { from: '' });
    await syncSeller(w);
    const r = (await w.t.api(w.seller.token, 'GET', `/api/v1/sequence-enrollments/${e.id}`)).json();
    expect(r).toMatchObject({ state: 'paused', reason: 'out_of_office' });
    expect(r.history.find((h: { kind: string }) => h.kind === 'paused').data).toMatchObject({ returnDate: back });
    expect(Date.parse(r.nextStep.dueAt)).toBeGreaterThan(Date.parse(`${back}T23:59:59Z`));
  });
});
