/**
 * Demo data for the conversations inbox: a Support inbox fed by a forwarding team address, with
 * realistic customer threads generated here and passed through the real ingest pipeline (threading,
 * classification, contact matching, routing), so `mailroom serve --demo` shows a working inbox without
 * a mail server.
 */
import crypto from 'node:crypto';
import { createInbox } from './commands/createInbox.js';
import { newId } from '../../platform/database/ids.js';
import { createIngestor, ingestBatch, type IngestItem } from '../ingest/index.js';
import { connectedColumns } from '../connections/index.js';
import type { Actor, CommandEnv } from '../../platform/context.js';

const THREADS: Array<{ from: [string, string]; subject: string; messages: string[]; kind?: 'auto_reply' }> = [
  { from: ['Carla Gomez', 'carla@globex.example'], subject: 'Order #4821 has not arrived', messages: ['Hi, I ordered a standing desk two weeks ago and tracking has not moved since Monday. Can you check?', 'Thanks for looking. The tracking number is 1Z999AA10123456784.'] },
  { from: ['Ben Okafor', 'ben@initech.example'], subject: 'Invoice 2026-118 shows the wrong VAT number', messages: ['Hello, our VAT number changed in March. Could you reissue invoice 2026-118 with FR40303265045?'] },
  { from: ['Mia Schmidt', 'mia@umbrella.example'], subject: 'Cannot reset my password', messages: ['The reset link says it expired, even when I click it right away.', 'Tried again in a private window, same thing.', 'It works now, thank you!'] },
  { from: ['Raj Patel', 'raj@hooli.example'], subject: 'Question about the annual plan', messages: ['If we switch to yearly billing mid-cycle, is the remaining month credited?'] },
  { from: ['Lena Berg', 'lena@vandelay.example'], subject: 'Abwesenheitsnotiz: Ihre Anfrage', messages: ['Ich bin bis 14. Dezember nicht im Büro.'], kind: 'auto_reply' },
];

/** Demo step: a Support inbox with the threads above, ingested for real. */
export async function demoInbox(env: CommandEnv, admin: Actor): Promise<void> {
  const inbox = await createInbox(env, admin, { name: 'Support' });
  const now = env.now();
  const connectionId = newId('con');
  await env.db
    .insertInto('connections')
    .values({
      id: connectionId, account_id: admin.accountId, type: 'team', address: 'support@demo.mailroom.local', address_key: 'support@demo.mailroom.local', user_id: admin.user.id,
      inbox_id: inbox.id, transport: 'forwarding', ...connectedColumns(null, 'forwarding', now), progress_done: 0, progress_total: null,
      imap_host: null, imap_port: null, imap_tls: null, imap_username: null,
      smtp_host: 'smtp.demo.mailroom.local', smtp_port: 587, smtp_tls: 'starttls', smtp_username: 'support@demo.mailroom.local',
      credentials: env.secrets.seal(JSON.stringify({ imapPassword: null, smtpPassword: 'demo' })), sent_folder: null, folders: '[]', sync_window_days: 90,
      is_default_from: 0, use_for_meetings: 0, forwarding_address: `support.${crypto.randomBytes(4).toString('hex')}@${env.settings.inboundDomain}`,
      sender_name_mode: 'agent_at_inbox', sender_name_custom: null, signature: '{agent_first_name}\nDemo Co Support', send_limit_day: null, send_limit_minute: null, forwarding_test_token: null, forwarding_test_requested_at: null, forwarding_test_sent_at: null, forwarding_test_error: null, forwarding_verified_at: null,
      created_at: now, updated_at: now,
    })
    .execute();
  const connection = await env.db.selectFrom('connections').selectAll().where('id', '=', connectionId).executeTakeFirstOrThrow();
  const items: IngestItem[] = [];
  let minute = 0;
  for (const [ti, th] of THREADS.entries()) {
    let parent: string | null = null;
    for (const [mi, body] of th.messages.entries()) {
      minute += 37;
      const id = `demo-${ti}-${mi}@${th.from[1].split('@')[1]}`;
      const at = new Date(now - (THREADS.length * 200 - minute) * 60_000);
      const raw = [
        `From: ${th.from[0]} <${th.from[1]}>`,
        'To: Demo Co Support <support@demo.mailroom.local>',
        `Subject: ${mi > 0 ? 'Re: ' : ''}${th.subject}`,
        `Message-ID: <${id}>`,
        ...(parent ? [`In-Reply-To: <${parent}>`, `References: <${parent}>`] : []),
        ...(th.kind === 'auto_reply' ? ['Auto-Submitted: auto-replied'] : []),
        `Date: ${at.toUTCString()}`,
        'Content-Type: text/plain; charset=utf-8',
        '',
        body,
        '',
      ].join('\r\n');
      items.push({ raw: Buffer.from(raw), source: 'import', direction: 'inbound', receivedAt: at.getTime() });
      parent = id;
    }
  }
  const ingestor = createIngestor(env);
  for (const item of items) await ingestBatch(ingestor, connection, [item]);
}
