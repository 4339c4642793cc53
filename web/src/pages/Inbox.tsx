import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../api/client.js';
import {
  VIEWS,
  getConversation,
  listConversations,
  setConversationStatus,
  type ConversationSummary,
  type ConversationThread,
  type ConversationView,
} from '../api/conversations.js';
import { listInboxes } from '../api/inboxes.js';
import { EmailFrame } from '../components/EmailFrame.js';
import { EmptyState, Notice, Spinner, useLoad } from '../components/ui.js';
import { formatDate, formatDateTime, isAdmin } from '../lib/format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';

const EMPTY_VIEW: Record<ConversationView, string> = {
  open: 'No open conversations. New customer email will show up here.',
  mine: 'Nothing is assigned to you right now.',
  unassigned: 'Every open conversation has an owner.',
  closed: 'No closed conversations yet.',
  spam: 'No spam. Mail from denied senders lands here.',
};

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

function personLabel(p: { name: string | null; address: string }): string {
  return p.name ? `${p.name} <${p.address}>` : p.address;
}

function ThreadView({ id, onBack, onClosed }: { id: string; onBack: () => void; onClosed: () => void }) {
  const { data, error, loading } = useLoad(() => getConversation(id), [id]);
  const [actionError, setActionError] = useState<string | null>(null);
  if (loading && !data) return <Spinner label="Opening the conversation…" />;
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data || !data.available) return <EmptyState title="This conversation cannot be shown yet" />;
  const t: ConversationThread = data;
  const close = async () => {
    setActionError(null);
    try {
      await setConversationStatus(id, 'closed');
      onClosed();
    } catch (e) {
      setActionError(errorText(e));
    }
  };
  return (
    <article className="thread" aria-labelledby="thread-subject">
      <header className="thread-head">
        <button type="button" className="btn btn-small back-button" onClick={onBack}>
          ← Back to list
        </button>
        <h2 id="thread-subject">{t.conversation.subject || '(no subject)'}</h2>
        <div className="thread-meta">
          <span className={`badge badge-${t.conversation.status === 'open' ? 'info' : 'neutral'}`}>{t.conversation.status}</span>
          <span className="muted small">{t.conversation.assignee ? `Assigned to ${t.conversation.assignee.name}` : 'Unassigned'}</span>
          {t.conversation.status === 'open' && (
            <button type="button" className="btn btn-small" onClick={close} title="Close (e)">
              Close
            </button>
          )}
        </div>
        {actionError && <Notice kind="error">{actionError}</Notice>}
      </header>
      <ol className="messages">
        {t.messages.map((m) => (
          <li key={m.id} className={`message message-${m.kind}`}>
            <div className="message-head">
              <strong>{m.kind === 'comment' ? `${m.from.name ?? m.from.address} (internal comment)` : personLabel(m.from)}</strong>
              <time className="muted small" dateTime={m.sentAt}>
                {formatDateTime(m.sentAt)}
              </time>
            </div>
            {m.kind !== 'comment' && m.to.length > 0 && <div className="muted small">To: {m.to.map(personLabel).join(', ')}</div>}
            {m.kind === 'comment' ? (
              <p className="comment-text">{m.text}</p>
            ) : (
              <EmailFrame html={m.html} text={m.text} title={`Message from ${m.from.name ?? m.from.address}`} />
            )}
            {m.attachments.length > 0 && (
              <ul className="attachments" aria-label="Attachments">
                {m.attachments.map((a) => (
                  <li key={a.id}>
                    <svg className="icon" viewBox="0 0 24 24" width="16" height="16" aria-hidden="true">
                      <path d="M21 11.5l-8.5 8.5a5 5 0 01-7-7L14 4.5a3.3 3.3 0 014.7 4.7L10.2 17.7a1.7 1.7 0 01-2.4-2.4L15.5 7.6" fill="none" stroke="currentColor" strokeWidth="2" strokeLinecap="round" />
                    </svg>{' '}
                    {a.filename} <span className="muted small">({Math.max(1, Math.round(a.size / 1024))} KB)</span>
                  </li>
                ))}
              </ul>
            )}
          </li>
        ))}
      </ol>
    </article>
  );
}

export function InboxPage({ view: rawView }: { view: ConversationView }) {
  const { session } = useSession();
  const { search } = useLocation();
  const view: ConversationView = VIEWS.some((v) => v.id === rawView) ? rawView : 'open';
  const inboxes = useLoad(listInboxes, []);
  const inboxId = search.get('inbox') ?? inboxes.data?.[0]?.id ?? null;
  const selectedId = search.get('c');
  const inbox = inboxes.data?.find((i) => i.id === inboxId) ?? null;
  const [tick, setTick] = useState(0);

  const list = useLoad(
    () => (inboxId ? listConversations({ inboxId, view, userId: session.user.id }) : Promise.resolve(null)),
    [inboxId, view, session.user.id, tick],
  );
  const conversations: ConversationSummary[] = useMemo(() => (list.data && list.data.available ? list.data.conversations : []), [list.data]);

  const href = useCallback(
    (opts: { view?: ConversationView; inbox?: string | null; c?: string | null }) => {
      const params = new URLSearchParams();
      const ib = opts.inbox === undefined ? inboxId : opts.inbox;
      if (ib) params.set('inbox', ib);
      const c = opts.c === undefined ? selectedId : opts.c;
      if (c) params.set('c', c);
      const q = params.toString();
      return `/inbox/${opts.view ?? view}${q ? `?${q}` : ''}`;
    },
    [inboxId, selectedId, view],
  );

  // Keyboard: j/k move through the list, e closes, Escape goes back to the list.
  const listRef = useRef<HTMLUListElement>(null);
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.defaultPrevented || e.metaKey || e.ctrlKey || e.altKey || isTyping(e.target)) return;
      if (document.querySelector('dialog[open]')) return;
      const i = conversations.findIndex((c) => c.id === selectedId);
      if (e.key === 'j' || e.key === 'k') {
        if (conversations.length === 0) return;
        const next = e.key === 'j' ? Math.min(conversations.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
        const target = conversations[next]!;
        navigate(href({ c: target.id }), { replace: true });
        listRef.current?.querySelector<HTMLElement>(`[data-conversation="${CSS.escape(target.id)}"]`)?.focus();
        e.preventDefault();
      } else if (e.key === 'Escape' && selectedId) {
        navigate(href({ c: null }), { replace: true });
      } else if (e.key === 'e' && selectedId) {
        setConversationStatus(selectedId, 'closed').then(
          () => setTick((t) => t + 1),
          () => undefined,
        );
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [conversations, selectedId, href]);

  const noInboxes = inboxes.data && inboxes.data.length === 0;
  const unavailable = list.data !== null && list.data !== undefined && !list.data.available;
  const connectHint = isAdmin(session.user.role) ? (
    <p>
      <Link to="/settings/inboxes" className="btn btn-primary">
        Connect a team email
      </Link>
    </p>
  ) : (
    <p>Ask an admin to connect a team email in Settings → Inboxes.</p>
  );

  return (
    <div className={`inbox-layout${selectedId ? ' has-selection' : ''}`}>
      <nav className="pane pane-views" aria-label="Inbox views">
        <h1 className="pane-title" tabIndex={-1} data-page-title>
          Inbox
        </h1>
        {inboxes.data && inboxes.data.length > 0 && (
          <div className="field">
            <label htmlFor="inbox-switch">Inbox</label>
            <select id="inbox-switch" value={inboxId ?? ''} onChange={(e) => navigate(href({ inbox: e.target.value, c: null }))}>
              {inboxes.data.map((i) => (
                <option key={i.id} value={i.id}>
                  {i.name}
                </option>
              ))}
            </select>
          </div>
        )}
        <ul className="views">
          {VIEWS.map((v) => (
            <li key={v.id}>
              <Link to={href({ view: v.id, c: null })} aria-current={v.id === view ? 'page' : undefined}>
                {v.label}
              </Link>
            </li>
          ))}
        </ul>
        <p className="shortcuts muted small">
          Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous, <kbd>e</kbd> close, <kbd>Esc</kbd> back
        </p>
      </nav>

      <section className="pane pane-list" aria-label={`Conversations: ${VIEWS.find((v) => v.id === view)?.label ?? ''}`}>
        <div className="pane-head">
          <h2>{VIEWS.find((v) => v.id === view)?.label}</h2>
          {inbox && <span className="muted small">{inbox.name}</span>}
        </div>
        {inboxes.error ? <Notice kind="error">{errorText(inboxes.error)}</Notice> : null}
        {list.error ? <Notice kind="error">{errorText(list.error)}</Notice> : null}
        {(inboxes.loading && !inboxes.data) || (list.loading && list.data === undefined) ? <Spinner /> : null}
        {noInboxes && (
          <EmptyState title="No inboxes yet">
            {isAdmin(session.user.role) ? (
              <p>
                <Link to="/settings/inboxes" className="btn btn-primary">
                  Create an inbox
                </Link>
              </p>
            ) : (
              <p>Ask an admin to create an inbox.</p>
            )}
          </EmptyState>
        )}
        {unavailable && <EmptyState title="No conversations yet — connect a team email to this inbox">{connectHint}</EmptyState>}
        {list.data?.available && conversations.length === 0 && <EmptyState title={EMPTY_VIEW[view]} />}
        {conversations.length > 0 && (
          <ul className="conversation-list" ref={listRef}>
            {conversations.map((c) => (
              <li key={c.id}>
                <Link
                  to={href({ c: c.id })}
                  data-conversation={c.id}
                  className={`conversation${c.id === selectedId ? ' is-selected' : ''}${c.unread ? ' is-unread' : ''}`}
                  aria-current={c.id === selectedId ? 'true' : undefined}
                >
                  <span className="conversation-top">
                    <span className="conversation-contact">{c.contact.name ?? c.contact.address}</span>
                    <time className="muted small" dateTime={c.lastMessageAt}>
                      {formatDate(c.lastMessageAt)}
                    </time>
                  </span>
                  <span className="conversation-subject">{c.subject || '(no subject)'}</span>
                  <span className="conversation-preview muted small">{c.preview}</span>
                  <span className="conversation-assignee small">{c.assignee ? c.assignee.name : 'Unassigned'}</span>
                </Link>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="pane pane-thread" aria-label="Conversation">
        {selectedId ? (
          <ThreadView id={selectedId} onBack={() => navigate(href({ c: null }))} onClosed={() => setTick((t) => t + 1)} />
        ) : (
          <div className="thread-placeholder">
            <p className="muted">{conversations.length > 0 ? 'Choose a conversation, or press j to open the first one.' : 'Conversations you open appear here.'}</p>
          </div>
        )}
      </section>
    </div>
  );
}
