/**
 * Demo data for the conversations inbox: a Support inbox fed by a forwarding team address, with
 * realistic customer threads generated here and passed through the real ingest pipeline (threading,
 * classification, contact matching, routing), so `mailroom serve --demo` shows a working inbox without
 * a mail server.
 */
import { createInbox } from './commands/createInbox.js';
import { connectEmail, updateConnection } from '../connections/index.js';
import { createIngestor, ingestBatch, type IngestItem } from '../ingest/index.js';
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
  // Through the real command; the demo has no mail server, so the connect-time check of its settings
  // is skipped (the address is fed by forwarding, and the demo never sends).
  const demoEnv: CommandEnv = { ...env, verifyMailSettings: async () => ({ sentFolder: null, folders: ['INBOX'] }) };
  const connected = await connectEmail(demoEnv, admin, {
    type: 'team',
    address: 'support@demo.mailroom.local',
    inboxId: inbox.id,
    transport: 'forwarding',
    smtp: { host: 'smtp.demo.mailroom.local', port: 587, tls: 'starttls', username: 'support@demo.mailroom.local', password: 'demo' },
  });
  const connectionId = connected.id;
  await updateConnection(env, admin, connectionId, { signature: '{agent_first_name}\nDemo Co Support' });
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
