/**
 * The forwarding check's I/O (see domain/forwarding-check.ts): the job sends the test email to the team
 * address through its own SMTP server (SSRF-guarded, like every send); inbound SMTP recognises it when it
 * comes back through the forwarding and marks the connection verified instead of storing a conversation.
 */
import crypto from 'node:crypto';
import { FORWARDING_TEST_HEADER, forwardingTestToken } from './domain/forwarding-check.js';
import { readHeaderBlock } from '../../mail/message/header-block.js';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import type { Ingestor } from '../ingest/index.js';
import type { CommandEnv } from '../../platform/context.js';
import { secretFromCredentials, sendThroughConnection } from '../../mail/transport-options.js';
import { readJson, shapes } from '../../platform/database/json.js';

/** The job: sends the test email (see sendForwardingTest.ts for who queues it). */
export function forwardingTestJob(ingestor: Ingestor) {
  return async (p: { connectionId: string; token: string }): Promise<void> => {
    await sendForwardingTestEmail(ingestor, p.connectionId, p.token);
  };
}

export async function sendForwardingTestEmail(ingestor: Ingestor, connectionId: string, token: string): Promise<'sent' | 'stale' | 'failed'> {
  const env = ingestor.env;
  const c = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirst();
  if (!c || c.forwarding_test_token !== token || c.disconnected_at !== null || !c.smtp_host || !c.credentials) return 'stale';
  try {
    const opened = env.secrets.open(c.credentials);
    readJson('connections.credentials', opened, shapes.mailCredentials);
    await sendThroughConnection(c, secretFromCredentials(opened, 'smtp'), {
      from: c.address,
      to: c.address,
      subject: 'Mailroom forwarding check',
      text: `This is an automatic test from Mailroom. If it reaches the inbox of ${c.address} in Mailroom, forwarding to ${c.forwarding_address} works. You can delete it.`,
      messageId: `<${token}.${crypto.randomBytes(4).toString('hex')}@${env.settings.inboundDomain}>`,
      headers: { [FORWARDING_TEST_HEADER]: token, 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All', 'X-Mailroom-Loop': c.account_id },
    });
    await env.db.updateTable('connections').set({ forwarding_test_sent_at: env.now(), forwarding_test_error: null }).where('id', '=', c.id).where('forwarding_test_token', '=', token).execute();
    return 'sent';
  } catch (err) {
    const message = String((err as Error).message ?? err).replace(/\s+/g, ' ').slice(0, 300);
    await env.db.updateTable('connections').set({ forwarding_test_error: message.endsWith('.') ? message : `${message}.` }).where('id', '=', c.id).where('forwarding_test_token', '=', token).execute();
    return 'failed';
  }
}

const FIELD_ANY_CASE = new RegExp(FORWARDING_TEST_HEADER.replace(/-/g, '\\-'), 'i');

/**
 * Inbound SMTP calls this first for each target connection: when the message is this connection's pending
 * forwarding test, the check is marked verified and true is returned (the message is not stored).
 */
export async function recordForwardingTest(env: Pick<CommandEnv, 'db' | 'now'>, connection: ConnectionsTable, raw: Buffer): Promise<boolean> {
  // Every inbound message passes here and most do not name the field: looked for in the header's text
  // before the header is parsed.
  const head = raw.subarray(0, 256 * 1024);
  const crlf = head.indexOf('\r\n\r\n');
  const end = crlf >= 0 ? crlf : head.indexOf('\n\n');
  if (!FIELD_ANY_CASE.test(head.subarray(0, end >= 0 ? end : head.length).toString('latin1'))) return false;
  const token = forwardingTestToken(readHeaderBlock(head.toString('latin1')).fields);
  if (!token) return false;
  // The token is checked against the connection as it is now, not against `connection` (inbound SMTP may
  // have looked that row up a moment before the test was requested): only the pending test is consumed,
  // once; a used or stale token is ordinary mail.
  const r = await env.db.updateTable('connections').set({ forwarding_verified_at: env.now(), forwarding_test_token: null }).where('id', '=', connection.id).where('forwarding_test_token', '=', token).executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}
