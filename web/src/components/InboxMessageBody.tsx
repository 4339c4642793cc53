import { useRef } from 'react';
import { getMessageHtml, type ConversationMessage } from '../api/conversations.js';
import { isFresh } from '../api/images.js';
import { EmailFrame } from './EmailFrame.js';
import { useLoad } from './ui.js';

/**
 * One thread message: its sanitised HTML (fetched when it has any) in the sandboxed EmailFrame, else its text.
 * Its remote images load with the image token the HTML endpoint hands out for this message (10 minutes);
 * an older one is replaced by fetching the HTML again when the reader asks for the images.
 */
export function InboxMessageBody({ conversationId, message, title }: { conversationId: string; message: ConversationMessage; title: string }) {
  const html = useLoad(() => (message.hasHtml ? getMessageHtml(conversationId, message.id) : Promise.resolve(null)), [conversationId, message.id, message.hasHtml]);
  const latest = useRef<{ token: string; expiresAt: string | null } | null>(null);
  if (html.data) latest.current ??= { token: html.data.imageToken, expiresAt: html.data.imageTokenExpiresAt };
  const imageAccess = async () => {
    if (!latest.current || !isFresh(latest.current.expiresAt)) {
      const again = await getMessageHtml(conversationId, message.id);
      latest.current = { token: again.imageToken, expiresAt: again.imageTokenExpiresAt };
    }
    return { subject: message.id, token: latest.current.token };
  };
  if (message.hasHtml && html.loading && html.data === undefined) return <p className="muted small">Loading the message…</p>;
  return <EmailFrame html={html.data?.html ?? null} text={message.text} title={title} imageAccess={imageAccess} />;
}
