/**
 * A sequence step is sent once even when the process stops at the worst moment (issue 15, "exactly
 * once"), on SQLite or PostgreSQL (DATABASE_URL): a real Dovecot, a real submission server that files
 * what it sends in the sender's Sent folder (as Gmail and Microsoft 365 do), the scheduler, the outbox.
 *
 * - Each (enrollment, step) has one outbox row and one Message-ID, derived from the pair.
 * - The failure is injected between the SMTP server's 250 and the commit that records it (a database
 *   trigger refuses the row's change to `sent`): the row stays `sending`. The restarted sender finds the
 *   Message-ID in the Sent folder (IMAP SEARCH) and records the step as sent: one copy in the recipient's
 *   Dovecot mailbox.
 * - Stopped after recording the attempt but before SMTP: not in Sent, and this server is known to file
 *   what it sends, so it is sent, once. A server not known to do so: `uncertain`, never resent.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { contact, mailboxOf, startWorld, uniq, type World } from '../personal/support.js';
import { runDueSteps, stepOutboxId } from '../../src/features/sequences/commands/runDueSteps.js';
import { appendToSent, SENT_COPY_GRACE_MS, sendOutboxMessage } from '../../src/features/outbox/sender.js';
import { makeMessageId } from '../../src/mail/message/reply-token.js';
import { RunAgain } from '../../src/platform/jobs/worker.js';
import type { CommandEnv } from '../../src/platform/context.js';

let w: World;
beforeAll(async () => {
  w = await startWorld({ submission: { fileSentIn: 'Sent' } });
}, 60_000);
afterAll(async () => {
  await w?.stop();
});

const deps = () => ({ putBlob: (raw: Buffer) => w.ingestor.blobs.put(raw), replyTokenSecret: w.ingestor.replyTokenSecret });
const envAt = (ms: number): CommandEnv => ({ ...w.t.env, now: () => ms });
const at = (ms: number) => ({ ...w.ingestor, env: envAt(ms) });
const allDay = { timeZone: 'UTC', window: { start: '00:00', end: '23:59' }, weekdays: [1, 2, 3, 4, 5, 6, 7] };

/** Runs `fn` while the database refuses (by a trigger) any change of an outbox row to `sent`. */
async function withSentCommitFailing<T>(fn: () => Promise<T>): Promise<T> {
  const db = w.t.env.db;
  if (w.t.env.dialect === 'postgres') {
    await sql`create or replace function mr_fail_sent() returns trigger language plpgsql as $$ begin if new.state = 'sent' then raise exception 'injected failure after SMTP 250'; end if; return new; end $$`.execute(db);
    await sql`create trigger mr_fail_sent before update on outbox for each row execute function mr_fail_sent()`.execute(db);
  } else {
    await sql`create trigger mr_fail_sent before update on outbox when new.state = 'sent' begin select raise(abort, 'injected failure after SMTP 250'); end`.execute(db);
  }
  try {
    return await fn();
  } finally {
    if (w.t.env.dialect === 'postgres') await sql`drop trigger mr_fail_sent on outbox`.execute(db);
    else await sql`drop trigger mr_fail_sent`.execute(db);
  }
}

/** A contact with a Dovecot mailbox, enrolled in a one-email sequence, and the scheduler's pass that queues the email. */
async function enrolledAndQueued() {
  const email = `c-${uniq()}@client.test`;
  const c = await contact(w, { firstName: 'Cat', emails: [email], mailbox: true });
  const subject = `Once ${uniq()}`;
  const seq = await w.t.api(w.seller.token, 'POST', '/api/v1/sequences', { name: subject, settings: allDay, steps: [{ type: 'email', subject, html: '<p>Hello</p>' }] });
  expect(seq.statusCode, seq.body).toBe(201);
  const e = await w.t.api(w.seller.token, 'POST', `/api/v1/sequences/${seq.json().id}/enrollments`, { contactId: c.id });
  expect(e.statusCode, e.body).toBe(201);
  const enrollmentId = e.json().id as string;
  const now = Date.now();
  const tick = await runDueSteps(envAt(now), deps());
  expect(tick.outcomes).toContain('queued');
  const outboxId = stepOutboxId(enrollmentId, 0);
  const row = await w.t.database.db.selectFrom('outbox').selectAll().where('id', '=', outboxId).executeTakeFirstOrThrow();
  return { email, enrollmentId, outboxId, row, subject, now };
}

const copiesOf = async (user: string, messageId: string, folder = 'INBOX') =>
  (await mailboxOf(w, user, folder)).filter((m) => (m.parsed.messageId ?? '').replace(/^<|>$/g, '').toLowerCase() === messageId).length;
const submitted = (messageId: string) => w.smtp.messages.filter((m) => m.raw.toString('latin1').toLowerCase().includes(`<${messageId}>`)).length;
const filesSent = async () => (await w.t.database.db.selectFrom('connections').select('server_files_sent').where('id', '=', w.seller.connectionId).executeTakeFirstOrThrow()).server_files_sent;

describe('sequences: exactly once across a crash', () => {
  it('a normal send teaches Mailroom that this server files what it sends', async () => {
    const q = await enrolledAndQueued();
    const now = q.now;
    // The Message-ID is the (enrollment, step)'s: the same pair always gives the same one.
    const domain = w.seller.address.split('@')[1]!;
    expect(q.row.message_id).toBe(makeMessageId({ outboxId: q.outboxId, domain, secret: w.ingestor.replyTokenSecret }).slice(1, -1).toLowerCase());
    expect(await sendOutboxMessage(at(now), q.outboxId)).toBe('sent');
    await appendToSent(at(now), q.outboxId);
    expect(await filesSent()).toBe(1);
    // Mailroom found the server's copy and did not append a second one.
    expect(await copiesOf(w.seller.address, q.row.message_id, 'Sent')).toBe(1);
    expect(await copiesOf(q.email, q.row.message_id)).toBe(1);
  });

  it('killed between SMTP 250 and the commit: the restarted sender finds it in Sent and records it sent, one copy arrives', async () => {
    const q = await enrolledAndQueued();
    const now = q.now;
    await withSentCommitFailing(async () => {
      await expect(sendOutboxMessage(at(now), q.outboxId)).rejects.toThrow(/injected failure after SMTP 250/);
    });
    // The server accepted it (250), the database never recorded it.
    expect(submitted(q.row.message_id)).toBe(1);
    expect((await w.t.database.db.selectFrom('outbox').select('state').where('id', '=', q.outboxId).executeTakeFirstOrThrow()).state).toBe('sending');

    // Restart: right away the sender waits for the provider's copy to be filed...
    await expect(sendOutboxMessage(at(now + 1000), q.outboxId)).rejects.toBeInstanceOf(RunAgain);
    // ...then the Sent folder says it went out: sent, not resent. The scheduler queues nothing again.
    const later = now + SENT_COPY_GRACE_MS + 1000;
    expect(await sendOutboxMessage(at(later), q.outboxId)).toBe('sent');
    expect((await runDueSteps(envAt(later), deps())).outcomes.filter((o) => o !== 'skipped' && o !== 'finished')).toEqual([]);
    await appendToSent(at(later), q.outboxId);
    expect(await sendOutboxMessage(at(later), q.outboxId)).toBe('skipped');

    const row = await w.t.database.db.selectFrom('outbox').selectAll().where('id', '=', q.outboxId).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ state: 'sent', sent_at: now, appended_to_sent: 1 });
    expect(submitted(q.row.message_id)).toBe(1);
    expect(await copiesOf(q.email, q.row.message_id)).toBe(1);
    expect(await copiesOf(w.seller.address, q.row.message_id, 'Sent')).toBe(1);
    // Stored once in its conversation, with one email.sent event.
    const stored = await w.t.database.db.selectFrom('messages').select('id').where('account_id', '=', w.accountId).where('message_id', '=', q.row.message_id).execute();
    expect(stored).toHaveLength(1);
    const events = await w.t.database.db.selectFrom('events').select('data').where('account_id', '=', w.accountId).where('type', '=', 'email.sent').execute();
    expect(events.filter((e) => String(e.data).includes(q.outboxId))).toHaveLength(1);
    // Learning is left to normal sends.
    expect(await filesSent()).toBe(1);
  });

  it('stopped after recording the attempt but before SMTP: not in Sent on a server that files its mail, so it is sent once', async () => {
    const q = await enrolledAndQueued();
    const now = q.now;
    // What a kill right after the attempt's commit leaves behind.
    await w.t.database.db.updateTable('outbox').set({ state: 'sending', attempt_started_at: now, attempts: 1 }).where('id', '=', q.outboxId).execute();
    expect(await sendOutboxMessage(at(now + SENT_COPY_GRACE_MS + 1000), q.outboxId)).toBe('sent');
    expect(await sendOutboxMessage(at(now + SENT_COPY_GRACE_MS + 2000), q.outboxId)).toBe('skipped');
    expect(submitted(q.row.message_id)).toBe(1);
    expect(await copiesOf(q.email, q.row.message_id)).toBe(1);
  });

  it('on a server not known to file what it sends, an interrupted send that is not in Sent stays uncertain and is never resent', async () => {
    await w.t.database.db.updateTable('connections').set({ server_files_sent: 0 }).where('id', '=', w.seller.connectionId).execute();
    try {
      const q = await enrolledAndQueued();
      const now = q.now;
      await w.t.database.db.updateTable('outbox').set({ state: 'sending', attempt_started_at: now, attempts: 1 }).where('id', '=', q.outboxId).execute();
      expect(await sendOutboxMessage(at(now + SENT_COPY_GRACE_MS + 1000), q.outboxId)).toBe('uncertain');
      expect(await sendOutboxMessage(at(now + SENT_COPY_GRACE_MS + 2000), q.outboxId)).toBe('skipped');
      const row = await w.t.database.db.selectFrom('outbox').select(['state', 'last_error']).where('id', '=', q.outboxId).executeTakeFirstOrThrow();
      expect(row.state).toBe('uncertain');
      expect(row.last_error).toMatch(/may or may not have gone out: it is not in Sent.*not known to file sent mail/);
      expect(submitted(q.row.message_id)).toBe(0);
      expect(await copiesOf(q.email, q.row.message_id)).toBe(0);

      // The same crash after the 250 is still found in Sent there (the folder is checked first).
      const q2 = await enrolledAndQueued();
      await withSentCommitFailing(() => expect(sendOutboxMessage(at(q2.now), q2.outboxId)).rejects.toThrow(/injected/));
      expect(await sendOutboxMessage(at(q2.now + SENT_COPY_GRACE_MS + 1000), q2.outboxId)).toBe('sent');
      expect(await copiesOf(q2.email, q2.row.message_id)).toBe(1);
    } finally {
      await w.t.database.db.updateTable('connections').set({ server_files_sent: 1 }).where('id', '=', w.seller.connectionId).execute();
    }
  });
});
