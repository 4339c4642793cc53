import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../api/client.js';
import {
  VIEWS,
  assignConversation,
  commentOnConversation,
  getConversation,
  listConversations,
  mailboxLabel,
  moveConversation,
  replyToConversation,
  undoReply,
  sendPresence,
  setConversationStatus,
  subscribeInboxEvents,
  type Activity,
  type ConversationMessage,
  type ConversationSla,
  type ConversationSummary,
  type ConversationThread,
  type ConversationView,
  type Viewer,
} from '../api/conversations.js';
import { listInboxes } from '../api/inboxes.js';
import { listUsers } from '../api/users.js';
import type { Inbox, User } from '../api/types.js';
import { ThreadActions } from '../components/ThreadActions.js';
import { AttachmentPicker, toAttachments, type PickedFile } from '../components/AttachmentPicker.js';
import { InboxMessageBody } from '../components/InboxMessageBody.js';
import { UndoSendBar } from '../components/UndoSend.js';
import { SenderAuth } from '../components/SenderAuth.js';
import { textareaTarget, useSnippetTyping } from '../components/SnippetTyping.js';
import { listTemplates } from '../api/compose.js';
import { EmptyState, Notice, Spinner, useLoad } from '../components/ui.js';
import { canManageInboxes, formatDate, formatDateTime } from '../lib/format.js';
import { Link, navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { fromLine, senderDisplayName } from '../lib/senderName.js';

const EMPTY_VIEW: Record<ConversationView, string> = {
  open: 'No open conversations. New customer email will show up here.',
  mine: 'Nothing is assigned to you right now.',
  unassigned: 'Every open conversation has an owner.',
  snoozed: 'Nothing is snoozed.',
  closed: 'No closed conversations yet.',
  spam: 'No spam. Mail from denied senders lands here.',
  all: 'No conversations yet.',
  breaching_soon: 'Nothing is about to miss its target. Targets are set per inbox in Settings → Inboxes (SLA).',
  breached: 'No open conversation has missed its target.',
};

/** What a conversation's service-level targets say, in a few words ("First response due 10:00", "Breached"). */
function slaLine(sla: ConversationSla | null | undefined): { text: string; tone: 'ok' | 'soon' | 'late' | 'paused' } | null {
  if (!sla) return null;
  const open = [sla.firstResponse && !sla.firstResponse.metAt ? { name: 'First response', t: sla.firstResponse } : null, sla.resolution && !sla.resolution.metAt ? { name: 'Resolution', t: sla.resolution } : null].filter((x) => x !== null);
  if (sla.state === 'paused') return { text: sla.paused === 'snoozed' ? 'SLA paused while snoozed' : 'SLA paused: waiting on the customer', tone: 'paused' };
  const next = open.find((o) => o.t.dueAt === sla.nextDueAt) ?? open[0];
  if (!next || !next.t.dueAt) return null;
  if (sla.state === 'breached') return { text: `${next.name} target breached (due ${formatDateTime(next.t.dueAt)})`, tone: 'late' };
  return { text: `${next.name} due ${formatDateTime(next.t.dueAt)}`, tone: sla.state === 'breaching_soon' ? 'soon' : 'ok' };
}

function SlaBadge({ sla }: { sla: ConversationSla | null | undefined }) {
  const line = slaLine(sla);
  if (!line) return null;
  return <span className={`sla sla-${line.tone} small`} data-sla={line.tone}>{line.text}</span>;
}

function isTyping(target: EventTarget | null): boolean {
  const el = target as HTMLElement | null;
  if (!el) return false;
  return el.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(el.tagName);
}

type TimelineItem = { at: string; key: string; message?: ConversationMessage; activity?: Activity };

function ThreadView({
  id,
  inboxAddress,
  userId,
  users,
  inboxes,
  refresh,
  onBack,
  onChanged,
  composeRef,
  presenceRef,
}: {
  id: string;
  inboxAddress: (connectionId: string) => string | null;
  userId: string;
  users: User[];
  inboxes: Inbox[];
  refresh: number;
  onBack: () => void;
  onChanged: () => void;
  composeRef: React.MutableRefObject<((mode: 'reply' | 'comment') => void) | null>;
  presenceRef: React.MutableRefObject<((conversationId: string, p: { userId: string; name: string; activity: string }) => void) | null>;
}) {
  const { data, error, loading, reload } = useLoad(() => getConversation(id), [id, refresh]);
  const [actionError, setActionError] = useState<string | null>(null);
  const [composer, setComposer] = useState<null | 'reply' | 'comment'>(null);
  const [draft, setDraft] = useState('');
  const [busy, setBusy] = useState(false);
  const [viewers, setViewers] = useState<Viewer[]>([]);
  const [replyMode, setReplyMode] = useState<'reply' | 'reply_all' | 'forward'>('reply');
  const [forwardTo, setForwardTo] = useState('');
  const [files, setFiles] = useState<PickedFile[]>([]);
  const [mentions, setMentions] = useState<Array<{ id: string; name: string }>>([]);
  const textRef = useRef<HTMLTextAreaElement>(null);
  // Snippets by typing: `/shortcut` in the composer offers the matching snippets (yours and the shared ones).
  const snippetList = useLoad(() => listTemplates('snippet').then((r) => r.templates.filter((x) => x.kind === 'snippet')).catch(() => []), []);
  const snippetTyping = useSnippetTyping(snippetList.data ?? [], textareaTarget(textRef, setDraft));
  // Undo send: the reply just sent, waiting for the undo delay, with the draft to put back.
  const [pending, setPending] = useState<null | { outboxId: string; until: string; draft: string; files: PickedFile[]; replyMode: 'reply' | 'reply_all' | 'forward'; forwardTo: string }>(null);
  const clearPending = useCallback(() => setPending(null), []);

  useEffect(() => {
    setComposer(null);
    setDraft('');
    setReplyMode('reply');
    setForwardTo('');
    setFiles([]);
    setMentions([]);
    setPending(null);
  }, [id]);
  useEffect(() => {
    composeRef.current = (mode) => {
      setComposer(mode);
      setTimeout(() => textRef.current?.focus(), 0);
    };
    return () => {
      composeRef.current = null;
    };
  }, [composeRef]);

  // Presence events of this conversation from the inbox's live updates.
  useEffect(() => {
    presenceRef.current = (conversationId, p) => {
      if (conversationId !== id || p.userId === userId) return;
      setViewers((vs) => {
        const rest = vs.filter((v) => v.userId !== p.userId);
        return p.activity === 'left' ? rest : [...rest, { userId: p.userId, name: p.name, activity: p.activity === 'replying' ? 'replying' : 'viewing' }];
      });
    };
    return () => {
      presenceRef.current = null;
    };
  }, [presenceRef, id, userId]);

  // Presence heartbeat while the thread is open (every 15 s), "left" when it closes.
  const activity = composer === 'reply' ? 'replying' : 'viewing';
  useEffect(() => {
    let live = true;
    const beat = () =>
      sendPresence(id, activity).then(
        (r) => live && setViewers(r.viewers.filter((v) => v.userId !== userId)),
        () => undefined,
      );
    void beat();
    const timer = setInterval(beat, 15_000);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [id, activity, userId]);
  useEffect(() => () => void sendPresence(id, 'left').catch(() => undefined), [id]);
  // The thread's viewers seed the list once per conversation; later reloads (after events) could be
  // older than the presence events and heartbeats that keep it current, so they do not overwrite it.
  const seededFor = useRef<string | null>(null);
  useEffect(() => {
    if (!data || data.id !== id || seededFor.current === id) return;
    seededFor.current = id;
    setViewers(data.viewers.filter((v) => v.userId !== userId));
  }, [data, id, userId]);

  if (loading && !data) return <Spinner label="Opening the conversation…" />;
  if (error && !data) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return <EmptyState title="This conversation cannot be shown" />;
  const t: ConversationThread = data;
  const act = async (fn: () => Promise<unknown>) => {
    setActionError(null);
    setBusy(true);
    try {
      await fn();
      reload();
      onChanged();
      return true;
    } catch (e) {
      setActionError(errorText(e));
      return false;
    } finally {
      setBusy(false);
    }
  };
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!draft.trim() || !composer) return;
    const to = forwardTo
      .split(/[,;\s]+/)
      .map((a) => a.trim())
      .filter(Boolean)
      .map((address) => ({ address }));
    if (composer === 'reply' && replyMode === 'forward' && to.length === 0) {
      setActionError('Enter the address to forward this conversation to.');
      return;
    }
    // Mentions: the people picked whose @name is still in the text.
    const mentioned = mentions.filter((m) => draft.includes(`@${m.name}`)).map((m) => m.id);
    const snapshot = { draft, files, replyMode, forwardTo };
    const ok = await act(async () => {
      if (composer !== 'reply') return commentOnConversation(id, draft, mentioned);
      const sent = await replyToConversation(id, { mode: replyMode, text: draft, undo: true, ...(replyMode === 'forward' ? { to } : {}), ...(files.length ? { attachments: toAttachments(files) } : {}) });
      if (sent.undoUntil) setPending({ outboxId: sent.outboxId, until: sent.undoUntil, ...snapshot });
      return sent;
    });
    if (ok) {
      setDraft('');
      setComposer(null);
      setFiles([]);
      setMentions([]);
      setForwardTo('');
      setReplyMode('reply');
    }
  };
  const undo = async () => {
    if (!pending) return;
    const p = pending;
    const ok = await act(() => undoReply(id, p.outboxId));
    setPending(null);
    if (ok) {
      // The draft comes back as it was, attachments included.
      setComposer('reply');
      setDraft(p.draft);
      setFiles(p.files);
      setReplyMode(p.replyMode);
      setForwardTo(p.forwardTo);
      setTimeout(() => textRef.current?.focus(), 0);
    }
  };
  const mention = (userIdToMention: string) => {
    const u = users.find((x) => x.id === userIdToMention);
    if (!u) return;
    setMentions((m) => (m.some((x) => x.id === u.id) ? m : [...m, { id: u.id, name: u.name }]));
    setDraft((d) => `${d}${d && !/\s$/.test(d) ? ' ' : ''}@${u.name} `);
    setTimeout(() => textRef.current?.focus(), 0);
  };
  const timeline: TimelineItem[] = [
    ...t.messages.map((m) => ({ at: m.sentAt ?? m.receivedAt, key: `m-${m.id}`, message: m })),
    ...t.activity.map((a) => ({ at: a.createdAt, key: `a-${a.id}`, activity: a })),
  ].sort((a, b) => Date.parse(a.at) - Date.parse(b.at));
  const from = inboxAddress(t.connectionId);
  const canAct = t.access === 'act';
  return (
    <article className="thread" aria-labelledby="thread-subject">
      <header className="thread-head">
        <button type="button" className="btn btn-small back-button" onClick={onBack}>
          ← Back to list
        </button>
        <h2 id="thread-subject">{t.subject || '(no subject)'}</h2>
        <div className="thread-meta">
          <span className={`badge badge-${t.status === 'open' ? 'info' : 'neutral'}`}>{t.status}</span>
          <span className="muted small" data-testid="assignee">
            {t.assignee ? `Assigned to ${t.assignee.id === userId ? 'you' : t.assignee.name}` : 'Unassigned'}
          </span>
          {canAct && t.assignee?.id !== userId && (
            <button type="button" className="btn btn-small" disabled={busy} onClick={() => act(() => assignConversation(id, userId))}>
              Assign to me
            </button>
          )}
          {canAct &&
            (t.status === 'open' ? (
              <button type="button" className="btn btn-small" disabled={busy} onClick={() => act(() => setConversationStatus(id, 'closed'))} title="Close (e)">
                Close
              </button>
            ) : (
              <button type="button" className="btn btn-small" disabled={busy} onClick={() => act(() => setConversationStatus(id, 'open'))}>
                Reopen
              </button>
            ))}
          {canAct && (
            <ThreadActions
              busy={busy}
              assigneeId={t.assignee?.id ?? null}
              users={users}
              inboxes={inboxes}
              currentInboxId={t.inboxId}
              onAssign={(uid) => void act(() => assignConversation(id, uid))}
              onSnooze={(until) => void act(() => setConversationStatus(id, 'snoozed', until.toISOString()))}
              onMove={(inboxId) => void act(() => moveConversation(id, inboxId))}
            />
          )}
        </div>
        {t.sla && (
          <div className="small sla-detail" role="group" aria-label="Service-level targets">
            <SlaBadge sla={t.sla} />
            {t.sla.firstResponse?.metAt && <span className="muted"> · First response {t.sla.firstResponse.breached ? 'late' : 'on time'} ({formatDateTime(t.sla.firstResponse.metAt)})</span>}
            {t.sla.resolution?.metAt && <span className="muted"> · Resolved {t.sla.resolution.breached ? 'late' : 'on time'}</span>}
          </div>
        )}
        {t.status === 'snoozed' && t.snoozedUntil && <p className="muted small">Snoozed until {formatDateTime(t.snoozedUntil)}: it opens again then, or when the customer writes.</p>}
        {viewers.length > 0 && (
          <p className="presence small" role="status" style={{ margin: '6px 0 0', color: '#8a4b00' }}>
            {viewers.map((v) => `${v.name} is also ${v.activity === 'replying' ? 'replying' : 'viewing'}`).join(' · ')}
          </p>
        )}
        {actionError && <Notice kind="error">{actionError}</Notice>}
      </header>
      <ol className="messages">
        {timeline.map((item) => {
          const m = item.message;
          if (m) {
            const who = m.from?.name || m.from?.address || 'unknown sender';
            return (
              <li key={item.key} className={`message message-${m.direction === 'inbound' ? 'incoming' : 'outgoing'}`}>
                <div className="message-head">
                  <strong>{mailboxLabel(m.from)}</strong>
                  {m.kind !== 'normal' && <span className="badge badge-neutral">{m.kind.replace('_', ' ')}</span>}
                  <time className="muted small" dateTime={item.at}>
                    {formatDateTime(item.at)}
                  </time>
                </div>
                {m.to.length > 0 && <div className="muted small">To: {m.to.map(mailboxLabel).join(', ')}</div>}
                <SenderAuth auth={m.senderAuth} from={m.from?.address ?? null} />
                <InboxMessageBody conversationId={id} message={m} title={`Message from ${who}`} />
                {m.attachments.length > 0 && (
                  <ul className="attachments" aria-label="Attachments">
                    {m.attachments.map((a) => (
                      <li key={a.sha256}>
                        <a href={`/api/v1/conversations/${encodeURIComponent(id)}/attachments/${a.sha256}`}>{a.filename ?? 'attachment'}</a>{' '}
                        <span className="muted small">({Math.max(1, Math.round(a.size / 1024))} KB)</span>
                      </li>
                    ))}
                  </ul>
                )}
              </li>
            );
          }
          const a = item.activity!;
          if (a.kind === 'comment') {
            return (
              <li key={item.key} className="message message-comment">
                <div className="message-head">
                  <strong>{a.actor?.name ?? 'Someone'} (internal comment)</strong>
                  <time className="muted small" dateTime={item.at}>
                    {formatDateTime(item.at)}
                  </time>
                </div>
                <p className="comment-text">{String(a.data.body ?? '')}</p>
              </li>
            );
          }
          return (
            <li key={item.key} className="activity muted small">
              {a.data.summary ? String(a.data.summary) : a.kind} · <time dateTime={item.at}>{formatDateTime(item.at)}</time>
            </li>
          );
        })}
      </ol>
      {t.outgoing.length > 0 && (
        <ul className="outgoing small">
          {t.outgoing.map((o) => (
            <li key={o.id}>
              Reply {o.state}
              {o.error ? `: ${o.error}` : ''}
            </li>
          ))}
        </ul>
      )}
      {canAct && (
        <div className="composer" style={{ marginTop: 16 }}>
          {pending && <UndoSendBar until={pending.until} onUndo={() => void undo()} onDone={clearPending} busy={busy} />}
          {composer ? (
            <form onSubmit={submit} aria-label={composer === 'reply' ? 'Reply' : 'Internal comment'}>
              {composer === 'reply' && from && <p className="muted small">From: {from}</p>}
              {composer === 'reply' && (
                <div className="composer-mode" style={{ display: 'flex', flexWrap: 'wrap', gap: 8, alignItems: 'center', marginBottom: 6 }}>
                  <select aria-label="Reply mode" value={replyMode} onChange={(e) => setReplyMode(e.target.value as typeof replyMode)}>
                    <option value="reply">Reply</option>
                    <option value="reply_all">Reply all</option>
                    <option value="forward">Forward</option>
                  </select>
                  {replyMode === 'forward' && <input type="text" aria-label="Forward to" placeholder="name@example.com" value={forwardTo} onChange={(e) => setForwardTo(e.target.value)} style={{ flex: 1, minWidth: 200 }} />}
                </div>
              )}
              <label htmlFor="composer-text">{composer === 'reply' ? (replyMode === 'forward' ? 'Note above the forwarded conversation' : 'Reply to the customer') : 'Internal comment (the customer never sees it)'}</label>
              <div className="snippet-anchor">
                <textarea
                  id="composer-text"
                  ref={textRef}
                  rows={5}
                  style={{ width: '100%' }}
                  value={draft}
                  onChange={(e) => setDraft(e.target.value)}
                  onKeyDown={(e) => void snippetTyping.onKeyDown(e)}
                  onKeyUp={snippetTyping.onKeyUp}
                  onClick={snippetTyping.refresh}
                  onBlur={snippetTyping.close}
                  {...snippetTyping.inputProps}
                />
                {snippetTyping.list}
              </div>
              {composer === 'comment' && users.length > 0 && (
                <select aria-label="Mention someone" value="" onChange={(e) => e.target.value && mention(e.target.value)} style={{ marginTop: 6 }}>
                  <option value="">@ Mention someone (they are notified)…</option>
                  {users
                    .filter((u) => u.id !== userId)
                    .map((u) => (
                      <option key={u.id} value={u.id}>
                        {u.name}
                      </option>
                    ))}
                </select>
              )}
              {composer === 'reply' && (
                <div className="composer-files" style={{ marginTop: 6 }}>
                  <AttachmentPicker files={files} onChange={setFiles} label="Attach files to the reply" listLabel="Reply attachments" />
                </div>
              )}
              <div className="composer-actions" style={{ display: 'flex', gap: 8, marginTop: 8 }}>
                <button type="submit" className="btn btn-primary" disabled={busy || !draft.trim()}>
                  {composer === 'reply' ? (replyMode === 'forward' ? 'Forward' : 'Send reply') : 'Add comment'}
                </button>
                <button type="button" className="btn" onClick={() => setComposer(null)}>
                  Cancel
                </button>
              </div>
            </form>
          ) : (
            <div className="composer-actions" style={{ display: 'flex', gap: 8, marginTop: 8 }}>
              <button type="button" className="btn" onClick={() => composeRef.current?.('reply')} title="Reply (r)">
                Reply
              </button>
              <button type="button" className="btn" onClick={() => composeRef.current?.('comment')} title="Comment (c)">
                Comment
              </button>
            </div>
          )}
        </div>
      )}
    </article>
  );
}

export function InboxPage({ view: rawView }: { view: ConversationView }) {
  const { session } = useSession();
  const { search } = useLocation();
  const view: ConversationView = VIEWS.some((v) => v.id === rawView) ? rawView : 'open';
  const inboxes = useLoad(listInboxes, []);
  // People to assign and mention (everyone active in the account; the server checks inbox membership).
  const users = useLoad(() => listUsers('active').catch(() => [] as User[]), []);
  const inboxId = search.get('inbox') ?? inboxes.data?.[0]?.id ?? null;
  const selectedId = search.get('c');
  const inbox = inboxes.data?.find((i) => i.id === inboxId) ?? null;
  const [tick, setTick] = useState(0);
  const [threadTick, setThreadTick] = useState(0);
  const q = search.get('q') ?? '';
  const [query, setQuery] = useState(q);
  useEffect(() => setQuery(q), [q]);
  const composeRef = useRef<((mode: 'reply' | 'comment') => void) | null>(null);
  const presenceRef = useRef<((conversationId: string, p: { userId: string; name: string; activity: string }) => void) | null>(null);

  const noConnections = inbox !== null && inbox.connections.length === 0;
  // Each page remembers which list it is (inbox, view, search): after a switch, the previous view's rows
  // are not shown under the new view's name while the new ones load (a live refresh of the same list
  // keeps showing the rows it replaces).
  const listKey = `${inboxId ?? ''}|${view}|${q}`;
  const loaded = useLoad(
    async (): Promise<{ key: string; page: Awaited<ReturnType<typeof listConversations>> | null }> => ({ key: listKey, page: inboxId ? await listConversations({ inboxId, view, q }) : null }),
    [inboxId, view, q, tick],
  );
  const list = { ...loaded, data: loaded.data && loaded.data.key === listKey ? loaded.data.page : undefined };
  const conversations: ConversationSummary[] = useMemo(() => list.data?.conversations ?? [], [list.data]);

  // Live updates: refresh the list (and the open thread when it changed) on the inbox's events.
  const selectedRef = useRef<string | null>(null);
  selectedRef.current = search.get('c');
  useEffect(() => {
    if (!inboxId) return;
    let timer: ReturnType<typeof setTimeout> | null = null;
    const unsubscribe = subscribeInboxEvents(inboxId, (e) => {
      if (e.type === 'presence') {
        const p = e.data as { userId?: string; name?: string; activity?: string } | null;
        if (p?.userId && p.name && p.activity) presenceRef.current?.(e.conversationId, { userId: p.userId, name: p.name, activity: p.activity });
        return;
      }
      if (timer) clearTimeout(timer);
      timer = setTimeout(() => {
        setTick((t) => t + 1);
        if (e.conversationId && e.conversationId === selectedRef.current) setThreadTick((t) => t + 1);
      }, 150);
    });
    return () => {
      if (timer) clearTimeout(timer);
      unsubscribe();
    };
  }, [inboxId]);
  // The From line of a reply as the customer will see it: the channel's sender name for this agent.
  const inboxAddress = useCallback(
    (connectionId: string) => {
      const c = inbox?.connections.find((x) => x.id === connectionId);
      if (!c || !inbox) return null;
      const name = senderDisplayName(c.senderName?.mode ?? 'agent_at_inbox', { agentName: session.user.name, agentEmail: session.user.email, inboxName: inbox.name, companyName: session.account.name, custom: c.senderName?.custom ?? null });
      return name ? fromLine(name, c.address) : c.address;
    },
    [inbox, session.user.name, session.account.name],
  );

  const href = useCallback(
    (opts: { view?: ConversationView; inbox?: string | null; c?: string | null; q?: string }) => {
      const params = new URLSearchParams();
      const ib = opts.inbox === undefined ? inboxId : opts.inbox;
      if (ib) params.set('inbox', ib);
      const qq = opts.q === undefined ? q : opts.q;
      if (qq) params.set('q', qq);
      const c = opts.c === undefined ? selectedId : opts.c;
      if (c) params.set('c', c);
      const qs = params.toString();
      return `/inbox/${opts.view ?? view}${qs ? `?${qs}` : ''}`;
    },
    [inboxId, selectedId, view, q],
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
          () => {
            setTick((t) => t + 1);
            setThreadTick((t) => t + 1);
          },
          () => undefined,
        );
      } else if ((e.key === 'r' || e.key === 'c') && selectedId && composeRef.current) {
        composeRef.current(e.key === 'r' ? 'reply' : 'comment');
        e.preventDefault();
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [conversations, selectedId, href]);

  const noInboxes = inboxes.data && inboxes.data.length === 0;
  const unavailable = noConnections && !!list.data && conversations.length === 0 && !q;
  const connectHint = canManageInboxes(session.user) ? (
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
      {/* On a phone the views pane is hidden while a conversation is open: this is the page's heading then. */}
      <h1 className="inbox-phone-title">Inbox</h1>
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
          Keys: <kbd>j</kbd>/<kbd>k</kbd> next/previous, <kbd>r</kbd> reply, <kbd>c</kbd> comment, <kbd>e</kbd> close, <kbd>Esc</kbd> back
        </p>
      </nav>

      <section className="pane pane-list" aria-label={`Conversations: ${VIEWS.find((v) => v.id === view)?.label ?? ''}`}>
        <div className="pane-head">
          <h2>{VIEWS.find((v) => v.id === view)?.label}</h2>
          {inbox && <span className="muted small">{inbox.name}</span>}
        </div>
        <form
          className="inbox-search"
          role="search"
          style={{ padding: '8px 16px' }}
          onSubmit={(e) => {
            e.preventDefault();
            navigate(href({ q: query.trim(), c: null }));
          }}
        >
          <input type="search" aria-label="Search conversations" placeholder="Search (subject, body, people)" style={{ width: '100%' }} value={query} onChange={(e) => setQuery(e.target.value)} />
        </form>
        {inboxes.error ? <Notice kind="error">{errorText(inboxes.error)}</Notice> : null}
        {list.error ? <Notice kind="error">{errorText(list.error)}</Notice> : null}
        {(inboxes.loading && !inboxes.data) || (list.loading && list.data === undefined) ? <Spinner /> : null}
        {noInboxes && (
          <EmptyState title="No inboxes yet">
            {canManageInboxes(session.user) ? (
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
        {list.data && !unavailable && conversations.length === 0 && <EmptyState title={EMPTY_VIEW[view]} />}
        {conversations.length > 0 && (
          <ul className="conversation-list" ref={listRef}>
            {conversations.map((c) => (
              <li key={c.id}>
                <Link
                  to={href({ c: c.id })}
                  data-conversation={c.id}
                  className={`conversation${c.id === selectedId ? ' is-selected' : ''}`}
                  aria-current={c.id === selectedId ? 'true' : undefined}
                >
                  <span className="conversation-top">
                    <span className="conversation-contact">{c.contact?.name ?? c.participants[0] ?? '(unknown)'}</span>
                    <time className="muted small" dateTime={c.lastMessageAt}>
                      {formatDate(c.lastMessageAt)}
                    </time>
                  </span>
                  <span className="conversation-subject">{c.subject || '(no subject)'}</span>
                  <span className="conversation-preview muted small">{c.snippet}</span>
                  <span className="conversation-assignee small">
                    {c.assignee ? c.assignee.name : 'Unassigned'}
                    {view === 'all' || view === 'spam' ? ` · ${c.status}` : ''}
                  </span>
                  <SlaBadge sla={c.sla} />
                </Link>
              </li>
            ))}
          </ul>
        )}
      </section>

      <section className="pane pane-thread" aria-label="Conversation">
        {selectedId ? (
          <ThreadView
            id={selectedId}
            userId={session.user.id}
            users={users.data ?? []}
            inboxes={inboxes.data ?? []}
            inboxAddress={inboxAddress}
            refresh={threadTick}
            composeRef={composeRef}
            presenceRef={presenceRef}
            onBack={() => navigate(href({ c: null }))}
            onChanged={() => setTick((t) => t + 1)}
          />
        ) : (
          <div className="thread-placeholder">
            <p className="muted">{conversations.length > 0 ? 'Choose a conversation, or press j to open the first one.' : 'Conversations you open appear here.'}</p>
          </div>
        )}
      </section>
    </div>
  );
}
