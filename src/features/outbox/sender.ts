/**
 * Sends outbox rows through the connection's own SMTP server, never twice: the attempt is committed
 * ("sending") before the SMTP transaction starts; if the process dies mid-send, the next run finds the
 * row still "sending" and marks it "uncertain" for a person to check instead of sending it again.
 * After a send, the message is stored in its conversation and appended to the mailbox's Sent folder.
 * Per-connection caps (rolling 24 hours and per minute) come from the plan table, lowered per connection.
 */
import type { CommandEnv } from '../../platform/context.js';
import { limitsFor, type PlanId } from '../accounts/index.js';
import { RetryLater, RunAgain, type JobHandler } from '../../platform/jobs/worker.js';
import { isToken, secretFromCredentials, sendThroughConnection, type MailSecret } from '../../mail/transport-options.js';
import { smtpTokenRenewal } from '../connections/index.js';
import { ingestBatch, type Ingestor } from '../ingest/index.js';
import { openImap } from '../../mail/imap-sync.js';
import { enqueue } from '../../platform/jobs/queue.js';
import { recordEvent } from '../../platform/events.js';
import { json, readJson, shapes } from '../../platform/database/json.js';
import { outboxEnvelope } from './commands/queueEmail.js';
import type { ConnectionsTable, OutboxTable } from '../../platform/database/schema.js';

type OutboxRow = OutboxTable;

export interface SendLimitsState {
  perDay: number;
  perMinute: number;
  sentLastDay: number;
  sentLastMinute: number;
  oldestInDay: number | null;
  oldestInMinute: number | null;
}

/** Pure: may a message go now; if not, when and why. */
export function sendLimitDecision(s: SendLimitsState, now: number): { ok: true } | { ok: false; reason: 'per_minute' | 'per_day'; retryAt: number } {
  if (s.sentLastDay >= s.perDay) return { ok: false, reason: 'per_day', retryAt: (s.oldestInDay ?? now) + 24 * 3600_000 };
  if (s.sentLastMinute >= s.perMinute) return { ok: false, reason: 'per_minute', retryAt: (s.oldestInMinute ?? now) + 60_000 };
  return { ok: true };
}

/** Hooks for features that show send outcomes where the user sent the mail (timeline...). */
export type SendOutcomeHook = (env: CommandEnv, outboxId: string, outcome: 'sent' | 'failed' | 'uncertain' | 'limit_reached') => Promise<void>;

declare module '../../platform/reactions.js' {
  interface Reactions {
    /** Run after each send attempt settles (sent, failed, uncertain, held by the send limit). */
    sendFinished: readonly SendOutcomeHook[];
  }
}

async function limitsState(env: CommandEnv, connectionId: string, plan: PlanId, overrides: { day: number | null; minute: number | null }, now: number): Promise<SendLimitsState> {
  const l = limitsFor(plan);
  const q = (since: number) =>
    env.db
      .selectFrom('outbox')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('sent_at').as('oldest')])
      .where('connection_id', '=', connectionId)
      .where('sent_at', '>', since)
      .executeTakeFirstOrThrow();
  const [day, minute] = await Promise.all([q(now - 24 * 3600_000), q(now - 60_000)]);
  return {
    perDay: Math.min(l.sendsPerDay, overrides.day ?? Infinity),
    perMinute: Math.min(l.sendsPerMinute, overrides.minute ?? Infinity),
    sentLastDay: Number(day.n),
    sentLastMinute: Number(minute.n),
    oldestInDay: day.oldest === null ? null : Number(day.oldest),
    oldestInMinute: minute.oldest === null ? null : Number(minute.oldest),
  };
}

export async function sendOutboxMessage(ingestor: Ingestor, outboxId: string): Promise<'sent' | 'skipped' | 'failed' | 'uncertain' | 'limit_reached'> {
  const env = ingestor.env;
  let row = await env.db.selectFrom('outbox').selectAll().where('id', '=', outboxId).executeTakeFirst();
  if (!row || ['sent', 'cancelled', 'failed', 'uncertain'].includes(row.state)) return 'skipped';
  const now = env.now();
  if (row.state === 'sending') {
    // A previous attempt started and never recorded its end: the server may have the message. The Sent
    // folder says whether it went out (sent, never resent); when it cannot say, a person checks.
    const settled = await settleInterruptedSend(ingestor, row, now);
    if (settled !== 'resend') return settled;
    row = { ...row, state: 'queued' };
  }
  if (row.send_at > now) throw new RunAgain(row.send_at - now);
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', row.connection_id).executeTakeFirstOrThrow();
  if (c.disconnected_at !== null) {
    await env.db.updateTable('outbox').set({ state: 'failed', last_error: `${c.address} was disconnected before this email was sent.` }).where('id', '=', row.id).execute();
    for (const h of env.reactions.sendFinished) await h(env, row.id, 'failed');
    return 'failed';
  }
  const account = await env.db.selectFrom('accounts').select('plan').where('id', '=', c.account_id).executeTakeFirstOrThrow();
  const limit = sendLimitDecision(await limitsState(env, c.id, account.plan, { day: c.send_limit_day, minute: c.send_limit_minute }, now), now);
  if (!limit.ok) {
    if (limit.reason === 'per_minute') throw new RunAgain(Math.max(1000, limit.retryAt - now));
    const resets = new Date(limit.retryAt).toISOString();
    await env.db
      .updateTable('outbox')
      .set({ state: 'failed', last_error: `This email was not sent because you reached your send limit for ${c.address}. The limit resets at ${resets}.`, meta: JSON.stringify({ ...readJson('outbox.meta', row.meta, json.record, {}), sendLimit: { reason: 'per_day', resetsAt: resets } }) })
      .where('id', '=', row.id)
      .execute();
    for (const h of env.reactions.sendFinished) await h(env, row.id, 'limit_reached');
    return 'limit_reached';
  }
  // Record the attempt before talking to the server: this is what makes "never twice" hold.
  const claimed = await env.db
    .updateTable('outbox')
    .set({ state: 'sending', attempt_started_at: now, attempts: row.attempts + 1 })
    .where('id', '=', row.id)
    .where('state', 'in', ['queued', 'scheduled'])
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return 'skipped';

  const raw = await ingestor.blobs.get(row.raw_sha256);
  const envelope = readJson('outbox.envelope', row.envelope, outboxEnvelope);
  const opened = env.secrets.open(c.credentials!);
  readJson('connections.credentials', opened, shapes.mailCredentials);
  const secret = secretFromCredentials(opened, 'smtp');
  // An OAuth connection's access token (XOAUTH2, issue 14): renewed once when the server refuses it.
  const renewal = isToken(secret) ? smtpTokenRenewal(env, c.id, `outbox:${row.id}`) : null;
  const send = (s: MailSecret) => sendThroughConnection(c, s, { envelope, raw }, renewal ? { renewToken: () => renewal.renew() } : {});
  let info: { response?: string };
  try {
    if (renewal && c.state === 'needs_reauth') throw new NeedsReauth();
    try {
      // A Gmail-style server challenges a refused token (334) and nodemailer renews it through `renewToken`.
      info = await send(secret);
    } catch (err) {
      // A server that answers 535 at once: renew here and try once more. AUTH comes before MAIL FROM, so
      // nothing was sent by the refused attempt.
      if (!renewal || renewal.renewed || !isAuthRefusal(err)) throw err;
      info = await send({ accessToken: await renewal.renew() });
    }
  } catch (err) {
    if (renewal && (err instanceof NeedsReauth || renewal.reauthNeeded || (renewal.renewedOk && isAuthRefusal(err)))) {
      // The provider refused the refresh token, or the server refused even a fresh token: the connection
      // needs its owner (needs_reauth, notified once), and this email was not sent.
      if (!(err instanceof NeedsReauth) && !renewal.reauthNeeded) await renewal.refusedAfterRenewal((err as Error).message ?? 'refused');
      const message = `This email was not sent: the mail server no longer accepts Mailroom's sign-in for ${c.address}. Reconnect ${c.address} in Settings → Email (sign in again), then send the email again.`;
      await env.db.updateTable('outbox').set({ state: 'failed', last_error: message }).where('id', '=', row.id).execute();
      for (const h of env.reactions.sendFinished) await h(env, row.id, 'failed');
      return 'failed';
    }
    const e = err as { responseCode?: number; command?: string; message?: string; code?: string };
    const permanent = typeof e.responseCode === 'number' && e.responseCode >= 500;
    const maybeDelivered = !e.responseCode && (e.command === 'DATA' || e.command === 'API');
    if (maybeDelivered && !permanent && canCheckSent(c)) {
      // It may have gone out: the row stays `sending` and the next run asks the Sent folder.
      await env.db.updateTable('outbox').set({ last_error: `The connection broke while the mail server was receiving this email; Mailroom checks your Sent folder before anything else. (${e.message})`.slice(0, 1000) }).where('id', '=', row.id).execute();
      throw new RunAgain(SENT_COPY_GRACE_MS);
    }
    const state = permanent ? 'failed' : maybeDelivered ? 'uncertain' : 'queued';
    const message = permanent
      ? `The mail server refused this email: ${e.message}`
      : maybeDelivered
        ? `The connection broke while the mail server was receiving this email, so it may have gone out. Check before sending again. (${e.message})`
        : `Could not reach the mail server; Mailroom will try again. (${e.message})`;
    await env.db.updateTable('outbox').set({ state, last_error: message.slice(0, 1000) }).where('id', '=', row.id).execute();
    if (state === 'queued') throw new RetryLater(message, Math.min(30 * 60_000, 30_000 * 2 ** row.attempts));
    for (const h of env.reactions.sendFinished) await h(env, row.id, state as 'failed' | 'uncertain');
    return state as 'failed' | 'uncertain';
  }
  await confirmSent(ingestor, row, c, env.now(), info.response ?? null);
  for (const h of env.reactions.sendFinished) await h(env, row.id, 'sent');
  return 'sent';
}

/** Records a send the server accepted: the stored copy in its conversation, the row `sent`, `email.sent`; one transaction. */
async function confirmSent(ingestor: Ingestor, row: OutboxRow, c: ConnectionsTable, sentAt: number, response: string | null): Promise<void> {
  const raw = await ingestor.blobs.get(row.raw_sha256);
  await ingestBatch(ingestor, c, [{ raw, source: 'outbox', direction: 'outbound', receivedAt: sentAt, outboxId: row.id, conversationId: row.conversation_id ?? undefined }], async (trx, stored) => {
    await trx.updateTable('outbox').set({ state: 'sent', sent_at: sentAt, smtp_response: response?.slice(0, 500) ?? null, last_error: null }).where('id', '=', row.id).execute();
    // email.sent, in the transaction that confirms the send (after the stored copy's conversation events).
    const m = stored.messageIds[0] ? await trx.selectFrom('messages').select(['id', 'conversation_id']).where('id', '=', stored.messageIds[0]).executeTakeFirst() : undefined;
    const conversationId = m?.conversation_id ?? row.conversation_id;
    await recordEvent(trx, {
      accountId: row.account_id,
      type: 'email.sent',
      subject: conversationId ? { type: 'conversation', id: conversationId } : { type: 'outbox', id: row.id },
      data: { outboxId: row.id, messageId: m?.id ?? null, conversationId, connectionId: c.id, userId: row.user_id },
      at: sentAt,
    });
  });
}

/**
 * How long after an interrupted attempt the Sent folder is trusted to show it (a provider files its copy
 * a moment after the 250).
 */
/** `outbox.smtp_response` of a send confirmed from the Sent folder (no SMTP answer was recorded). */
const SENT_FROM_FOLDER = 'found in the Sent folder after an interrupted send';

export const SENT_COPY_GRACE_MS = 2 * 60_000;

const canCheckSent = (c: ConnectionsTable) => c.transport === 'imap' && !!c.sent_folder && c.disconnected_at === null;

/** Is a message with this Message-ID in the mailbox's Sent folder (IMAP SEARCH HEADER, case-insensitive)? */
async function inSentFolder(ingestor: Ingestor, c: ConnectionsTable, messageId: string): Promise<boolean> {
  const client = await openImap(ingestor.env, c);
  try {
    const lock = await client.getMailboxLock(c.sent_folder!);
    try {
      const found = await client.search({ header: { 'message-id': `<${messageId}>` } }, { uid: true });
      return Boolean(found && found.length > 0);
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
}

/**
 * An attempt that never recorded its end (the process stopped between SMTP and the commit, or the
 * connection broke during DATA): the Sent folder decides.
 *
 *   our Message-ID is in Sent                                   -> it went out: recorded as sent, never resent
 *   not in Sent, and this server is known to file what it sends -> it did not go out: send it (once)
 *   not in Sent otherwise, or Sent cannot be read               -> uncertain, for a person to check
 *
 * Whether a server files what it sends (Gmail, Microsoft 365 do; most others do not) is learnt when
 * Mailroom appends its copy (`appendToSent`: found before appending).
 */
async function settleInterruptedSend(ingestor: Ingestor, row: OutboxRow, now: number): Promise<'sent' | 'uncertain' | 'resend' | 'skipped'> {
  const env = ingestor.env;
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', row.connection_id).executeTakeFirstOrThrow();
  let why = 'Mailroom stopped while this email was being sent, so it may or may not have gone out. Check the recipient\'s reply or your Sent folder before sending it again.';
  if (canCheckSent(c)) {
    const started = Number(row.attempt_started_at ?? 0);
    if (now - started < SENT_COPY_GRACE_MS) throw new RunAgain(started + SENT_COPY_GRACE_MS - now);
    let found: boolean | Error;
    try {
      found = await inSentFolder(ingestor, c, row.message_id);
    } catch (err) {
      found = err instanceof Error ? err : new Error(String(err));
    }
    if (found === true) {
      // Claimed by the attempt counter (two workers settling the same row: one confirms it).
      const r = await env.db.updateTable('outbox').set({ appended_to_sent: 1, attempts: row.attempts + 1 }).where('id', '=', row.id).where('state', '=', 'sending').where('attempts', '=', row.attempts).executeTakeFirst();
      if (Number(r.numUpdatedRows) !== 1) return 'skipped';
      await confirmSent(ingestor, row, c, started || now, SENT_FROM_FOLDER);
      for (const h of env.reactions.sendFinished) await h(env, row.id, 'sent');
      return 'sent';
    }
    if (found === false && c.server_files_sent === 1) {
      const r = await env.db
        .updateTable('outbox')
        .set({ state: 'queued', last_error: `An interrupted attempt did not reach ${c.sent_folder}, where this server files what it sends: sending it now.` })
        .where('id', '=', row.id)
        .where('state', '=', 'sending')
        .where('attempts', '=', row.attempts)
        .executeTakeFirst();
      return Number(r.numUpdatedRows) === 1 ? 'resend' : 'skipped';
    }
    why =
      found === false
        ? `Mailroom stopped while this email was being sent, so it may or may not have gone out: it is not in ${c.sent_folder}, but this mail server is not known to file sent mail there by itself. Check with the recipient before sending it again.`
        : `Mailroom stopped while this email was being sent, so it may or may not have gone out, and it could not read ${c.sent_folder} to check (${found.message}). Check your Sent folder before sending it again.`;
  }
  await env.db.updateTable('outbox').set({ state: 'uncertain', last_error: why.slice(0, 1000) }).where('id', '=', row.id).where('state', '=', 'sending').execute();
  for (const h of env.reactions.sendFinished) await h(env, row.id, 'uncertain');
  return 'uncertain';
}

/** Raised before any SMTP when the connection already waits for its owner to sign in again. */
class NeedsReauth extends Error {}

/** The server refused the login (535, or nodemailer's EAUTH at the AUTH command): nothing was sent. */
function isAuthRefusal(err: unknown): boolean {
  const e = err as { responseCode?: number; code?: string; command?: string };
  return e.responseCode === 535 || (e.code === 'EAUTH' && String(e.command ?? '').startsWith('AUTH'));
}

/** Appends the sent copy to the Sent folder once (searches for our Message-ID first, so a retry never appends twice). */
export async function appendToSent(ingestor: Ingestor, outboxId: string): Promise<void> {
  const env = ingestor.env;
  const row = await env.db.selectFrom('outbox').selectAll().where('id', '=', outboxId).executeTakeFirst();
  if (!row || row.state !== 'sent' || row.appended_to_sent === 1) return;
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', row.connection_id).executeTakeFirstOrThrow();
  if (c.transport !== 'imap' || !c.sent_folder || c.disconnected_at !== null) {
    await env.db.updateTable('outbox').set({ appended_to_sent: 1 }).where('id', '=', row.id).execute();
    return;
  }
  const client = await openImap(env, c);
  try {
    const lock = await client.getMailboxLock(c.sent_folder);
    try {
      const found = await client.search({ header: { 'message-id': `<${row.message_id}>` } }, { uid: true });
      const filedByServer = Boolean(found && found.length > 0);
      if (!filedByServer) {
        const raw = await ingestor.blobs.get(row.raw_sha256);
        await client.append(c.sent_folder, raw, ['\\Seen'], new Date(row.sent_at ?? env.now()));
      }
      // Learnt from a send that went normally (not one confirmed from the Sent folder, already there).
      if (row.smtp_response !== SENT_FROM_FOLDER && c.server_files_sent !== (filedByServer ? 1 : 0)) {
        await env.db.updateTable('connections').set({ server_files_sent: filedByServer ? 1 : 0 }).where('id', '=', c.id).execute();
      }
    } finally {
      lock.release();
    }
  } finally {
    await client.logout().catch(() => client.close());
  }
  await env.db.updateTable('outbox').set({ appended_to_sent: 1 }).where('id', '=', row.id).execute();
}

/** The outbox's background jobs: send a queued email, then append the sent copy to the Sent folder. */
export function outboxJobs(ingestor: Ingestor): Record<string, JobHandler> {
  return {
    'outbox.send': async (p: { outboxId: string }) => {
      const r = await sendOutboxMessage(ingestor, p.outboxId);
      if (r === 'sent') {
        await enqueue(ingestor.env.db, ingestor.env.now(), { queue: 'mail', kind: 'outbox.append_sent', payload: { outboxId: p.outboxId }, dedupeKey: `sent-copy:${p.outboxId}` });
      }
    },
    'outbox.append_sent': async (p: { outboxId: string }) => appendToSent(ingestor, p.outboxId),
  };
}

