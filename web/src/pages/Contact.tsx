import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import { addNote, contactTimeline, getContact } from '../api/contacts.js';
import type { TimelineEvent } from '../api/types.js';
import { EmptyState, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { ComposeEmail } from '../components/ComposeEmail.js';
import { ContactSequences } from '../components/ContactSequences.js';
import { formatDateTime } from '../lib/format.js';
import { Link } from '../router.js';

const KIND: Record<string, { icon: string; label: string }> = {
  email_sent: { icon: '↗', label: 'Email sent' },
  email_received: { icon: '↘', label: 'Email received' },
  email_opened: { icon: '◉', label: 'Email opened' },
  email_clicked: { icon: '➚', label: 'Link clicked' },
  email_bounced: { icon: '⚠', label: 'Email bounced' },
  auto_reply_received: { icon: '↺', label: 'Auto-reply received' },
  meeting: { icon: '◷', label: 'Meeting' },
  note: { icon: '✎', label: 'Note' },
  contact_created: { icon: '+', label: 'Contact created' },
  send_failed: { icon: '✕', label: 'Sending failed' },
};

function str(v: unknown): string | null {
  return typeof v === 'string' && v.trim() ? v : null;
}

function EventItem({ e }: { e: TimelineEvent }) {
  const k = KIND[e.kind] ?? { icon: '•', label: e.kind };
  const subject = str(e.data.subject);
  const text = str(e.data.text) ?? str(e.data.snippet) ?? str(e.data.preview) ?? str(e.data.reason) ?? str(e.data.url);
  return (
    <li className={`timeline-item timeline-${e.kind}`}>
      <span className="timeline-icon" aria-hidden="true">
        {k.icon}
      </span>
      <div className="timeline-body">
        <div className="timeline-head">
          <strong>{k.label}</strong>
          <time dateTime={e.occurredAt} className="muted small">
            {formatDateTime(e.occurredAt)}
          </time>
        </div>
        {subject && <div className="timeline-subject">{subject}</div>}
        {text && <p className="timeline-text">{text}</p>}
      </div>
    </li>
  );
}

export function ContactPage({ id }: { id: string }) {
  const contact = useLoad(() => getContact(id), [id]);
  const timeline = useLoad(() => contactTimeline(id), [id]);
  const [more, setMore] = useState<TimelineEvent[]>([]);
  const [cursor, setCursor] = useState<string | null | undefined>(undefined);
  const [note, setNote] = useState('');
  const [error, setError] = useState<string | null>(null);
  const nextCursor = cursor === undefined ? (timeline.data?.nextCursor ?? null) : cursor;
  const events = [...(timeline.data?.events ?? []), ...more];

  const loadMore = async () => {
    if (!nextCursor) return;
    try {
      const r = await contactTimeline(id, nextCursor);
      setMore((m) => [...m, ...r.events]);
      setCursor(r.nextCursor);
    } catch (e) {
      setError(errorText(e));
    }
  };
  const submitNote = async (e: FormEvent) => {
    e.preventDefault();
    if (!note.trim()) return;
    setError(null);
    try {
      await addNote(id, note.trim());
      setNote('');
      setMore([]);
      setCursor(undefined);
      timeline.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  if (contact.loading && !contact.data) return <Spinner />;
  if (contact.error || !contact.data)
    return (
      <div className="page">
        <Notice kind="error">{errorText(contact.error)}</Notice>
        <Link to="/contacts">Back to contacts</Link>
      </div>
    );
  const c = contact.data;
  return (
    <section className="page contact-page">
      <nav aria-label="Breadcrumb" className="breadcrumb">
        <Link to="/contacts">Contacts</Link> <span aria-hidden="true">›</span> <span>{c.name}</span>
      </nav>
      <PageTitle>{c.name || c.primaryEmail || 'Unnamed contact'}</PageTitle>
      <div className="contact-layout">
        <aside className="card contact-facts" aria-label="Contact details">
          <dl>
            <dt>Email</dt>
            <dd>
              {c.emails.length === 0 && '—'}
              <ul className="plain">
                {c.emails.map((m) => (
                  <li key={m.email}>
                    <a href={`mailto:${m.email}`}>{m.email}</a>
                    {m.primary && c.emails.length > 1 && <span className="muted small"> (primary)</span>}
                    {m.bouncedAt && <span className="badge badge-bad">Bounced</span>}
                  </li>
                ))}
              </ul>
            </dd>
            <dt>Company</dt>
            <dd>{c.company?.name ?? '—'}</dd>
            <dt>Time zone</dt>
            <dd>{c.timeZone ?? '—'}</dd>
            <dt>Added</dt>
            <dd>
              {formatDateTime(c.createdAt)} ({c.source})
            </dd>
          </dl>
          <ContactSequences contactId={c.id} />
        </aside>
        <div className="contact-main">
          <ComposeEmail
            contactId={c.id}
            contactEmail={c.primaryEmail ?? null}
            onSent={() => {
              setMore([]);
              setCursor(undefined);
              timeline.reload();
            }}
          />
          <form className="card note-form" onSubmit={submitNote}>
            <label htmlFor="note-text">Add a note</label>
            <textarea id="note-text" rows={3} value={note} onChange={(e) => setNote(e.target.value)} maxLength={10000} />
            <div className="form-actions">
              <button type="submit" className="btn btn-primary" disabled={!note.trim()}>
                Save note
              </button>
            </div>
          </form>
          {error && <Notice kind="error">{error}</Notice>}
          <h2>Timeline</h2>
          {timeline.loading && !timeline.data && <Spinner />}
          {timeline.error ? <Notice kind="error">{errorText(timeline.error)}</Notice> : null}
          {timeline.data && events.length === 0 && <EmptyState title="Nothing here yet">Emails in and out, opens, clicks and notes will appear here.</EmptyState>}
          <ol className="timeline">
            {events.map((e) => (
              <EventItem key={e.id} e={e} />
            ))}
          </ol>
          {nextCursor && (
            <button type="button" className="btn" onClick={loadMore}>
              Show older
            </button>
          )}
        </div>
      </div>
    </section>
  );
}
