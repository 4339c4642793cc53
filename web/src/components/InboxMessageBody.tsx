import { getMessageHtml, type ConversationMessage } from '../api/conversations.js';
import { EmailFrame } from './EmailFrame.js';
import { useLoad } from './ui.js';

/** One thread message: its sanitised HTML (fetched when it has any) in the sandboxed EmailFrame, else its text. */
export function InboxMessageBody({ conversationId, message, title }: { conversationId: string; message: ConversationMessage; title: string }) {
  const html = useLoad(() => (message.hasHtml ? getMessageHtml(conversationId, message.id).then((r) => r.html) : Promise.resolve(null)), [conversationId, message.id, message.hasHtml]);
  if (message.hasHtml && html.loading && html.data === undefined) return <p className="muted small">Loading the message…</p>;
  return <EmailFrame html={html.data ?? null} text={message.text} title={title} />;
}
