import { notFound } from '../../../platform/errors.js';
import { sanitizeEmailHtmlDetailed } from '../../../platform/security/html-sanitize.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { blobStoreOf, requireConversation } from '../queries.js';
import { readJson, shapes } from '../../../platform/database/json.js';

/**
 * The HTML body of a message of a conversation, sanitised for display (scripts, forms, frames removed;
 * remote images held back unless asked for; `cid:` images pointed at the attachment download). Show it
 * in a sandboxed iframe.
 */
export async function getMessageHtml(env: CommandEnv, actor: Actor, conversationId: string, messageId: string, opts: { allowRemoteImages?: boolean } = {}) {
  const { conversation } = await requireConversation(env.db, actor, conversationId, 'view');
  const m = await env.db.selectFrom('messages').select(['id', 'html_sha256', 'attachments']).where('id', '=', messageId).where('conversation_id', '=', conversation.id).executeTakeFirst();
  if (!m) throw notFound('Message');
  if (!m.html_sha256) return { messageId: m.id, html: null, blockedRemoteImages: 0 };
  const raw = (await blobStoreOf(env).get(m.html_sha256)).toString('utf8');
  const out = sanitizeEmailHtmlDetailed(raw, { allowRemoteImages: Boolean(opts.allowRemoteImages) });
  const parts = readJson('messages.attachments', m.attachments, shapes.attachments, []);
  const html = out.html.replace(/(["'])cid:([^"']+)\1/gi, (whole, q: string, cid: string) => {
    const part = parts.find((p) => p.contentId && p.contentId.replace(/^<|>$/g, '').toLowerCase() === cid.toLowerCase());
    return part ? `${q}/api/v1/conversations/${conversation.id}/attachments/${part.sha256}${q}` : whole;
  });
  return { messageId: m.id, html, blockedRemoteImages: out.blockedRemoteImages };
}
