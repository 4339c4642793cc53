/**
 * The notification email: one digest per user with what happened since the last one (assignments,
 * mentions, snoozes ending, disconnected addresses...), each with a link into Mailroom. Marked as
 * automatic mail so it is never answered by auto-responders, and tagged with the account so that if it
 * comes back into one of our own inboxes it is recognised as a loop and ignored. Pure.
 */
import { escapeHtml } from '../../personal/domain/html.js';

export interface DigestItem {
  kind: string;
  message: string;
  data: Record<string, unknown>;
  createdAt: number;
}

export interface DigestEmail {
  subject: string;
  text: string;
  html: string;
  headers: Record<string, string>;
}

export const MAX_DIGEST_ITEMS = 50;

const oneLine = (s: string, max: number) => {
  const t = s.replace(/[\r\n\t]+/g, ' ').replace(/ {2,}/g, ' ').trim();
  return t.length > max ? `${t.slice(0, max - 1)}…` : t;
};

/** Where a notification leads in the web app. */
export function notificationLink(publicUrl: string, item: Pick<DigestItem, 'data'>): string {
  const base = publicUrl.replace(/\/+$/, '');
  const d = item.data;
  const id = (v: unknown) => (typeof v === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(v) ? v : null);
  const conversation = id(d.conversationId);
  const contact = id(d.contactId);
  const inbox = id(d.inboxId);
  if (conversation) return inbox ? `${base}/inbox?inbox=${inbox}&c=${conversation}` : `${base}/inbox?c=${conversation}`;
  if (contact) return `${base}/contacts/${contact}`;
  if (id(d.connectionId)) return `${base}/settings/email`;
  return `${base}/`;
}

export function buildDigest(p: { userName: string; accountId: string; publicUrl: string; items: readonly DigestItem[]; now: number }): DigestEmail {
  const items = [...p.items].sort((a, b) => a.createdAt - b.createdAt).slice(0, MAX_DIGEST_ITEMS);
  const more = p.items.length - items.length;
  const subject = items.length === 1 ? oneLine(items[0]!.message, 150) : `${p.items.length} new notifications in Mailroom`;
  const first = p.userName.trim().split(/\s+/)[0] || 'there';
  const settings = `${p.publicUrl.replace(/\/+$/, '')}/settings/email`;
  const lines = items.map((i) => `- ${oneLine(i.message, 500)}\n  ${notificationLink(p.publicUrl, i)}`);
  const text = [
    `Hi ${first},`,
    '',
    items.length === 1 ? 'This happened in Mailroom:' : 'These happened in Mailroom:',
    '',
    ...lines,
    ...(more > 0 ? ['', `...and ${more} more: ${p.publicUrl}`] : []),
    '',
    '--',
    `You get this because notification email is on. Turn it off in Settings → Email: ${settings}`,
    'This is an automatic message: replies are not read.',
  ].join('\n');
  const html = [
    `<p>Hi ${escapeHtml(first)},</p>`,
    `<p>${items.length === 1 ? 'This happened in Mailroom:' : 'These happened in Mailroom:'}</p>`,
    '<ul>',
    ...items.map((i) => `<li><a href="${escapeHtml(notificationLink(p.publicUrl, i))}">${escapeHtml(oneLine(i.message, 500))}</a></li>`),
    '</ul>',
    ...(more > 0 ? [`<p>...and <a href="${escapeHtml(p.publicUrl)}">${more} more</a>.</p>`] : []),
    `<p style="color:#666;font-size:12px">You get this because notification email is on. <a href="${escapeHtml(settings)}">Turn it off in Settings → Email</a>. This is an automatic message: replies are not read.</p>`,
  ].join('\n');
  return {
    subject,
    text,
    html,
    headers: {
      'Auto-Submitted': 'auto-generated',
      'X-Auto-Response-Suppress': 'All',
      Precedence: 'bulk',
      'X-Mailroom-Loop': p.accountId,
    },
  };
}
