/**
 * Settings → Meetings: the host's booking pages (on their personal meetings address; team email never),
 * their CalDAV calendar (busy times, where bookings are written; told when it cannot be read), and their
 * upcoming meetings.
 */
import { useId, useState } from 'react';
import { ApiError, errorText } from '../api/client.js';
import { listConnections } from '../api/connections.js';
import { connectCalendar, createMeetingType, disconnectCalendar, getCalendar, listMeetingTypes, listMeetings } from '../api/meetings.js';
import { EmptyState, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { formatWhen } from './Booking.js';

const WEEKDAYS = ['1', '2', '3', '4', '5'] as const;

function NewPageForm({ onCreated }: { onCreated: () => void }) {
  const ids = { name: useId(), slug: useId(), duration: useId(), zone: useId(), start: useId(), end: useId() };
  const [name, setName] = useState('Intro call');
  const [slug, setSlug] = useState('');
  const [duration, setDuration] = useState(30);
  const [zone, setZone] = useState(() => Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC');
  const [start, setStart] = useState('09:00');
  const [end, setEnd] = useState('17:00');
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await createMeetingType({ name, slug, durationMin: duration, availability: { timeZone: zone, weekly: Object.fromEntries(WEEKDAYS.map((d) => [d, [{ start, end }]])) } });
      setSlug('');
      onCreated();
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const refusal = error instanceof ApiError && (error.code === 'team_address_not_allowed_for_meetings' || error.code === 'meetings_connection_required');
  return (
    <form className="card" onSubmit={submit} aria-label="New booking page">
      <h2>New booking page</h2>
      {error !== null && (
        <Notice kind="error" title={errorText(error)}>
          {refusal && (
            <>
              {error instanceof ApiError && typeof error.body.resolution === 'string' ? error.body.resolution : ''} A shared team address has no one owner or calendar, so it is never used for meetings.
            </>
          )}
        </Notice>
      )}
      <p>
        <label htmlFor={ids.name}>Name</label>
        <input id={ids.name} required value={name} onChange={(e) => setName(e.target.value)} />
      </p>
      <p>
        <label htmlFor={ids.slug}>Page address (/meet/…)</label>
        <input id={ids.slug} required pattern="[a-z0-9][a-z0-9-]{1,58}[a-z0-9]" value={slug} onChange={(e) => setSlug(e.target.value.toLowerCase())} />
      </p>
      <p>
        <label htmlFor={ids.duration}>Minutes</label>
        <input id={ids.duration} type="number" min={5} step={5} value={duration} onChange={(e) => setDuration(Number(e.target.value))} />
      </p>
      <p>
        <label htmlFor={ids.zone}>Your time zone</label>
        <input id={ids.zone} required value={zone} onChange={(e) => setZone(e.target.value)} />
      </p>
      <p>
        <label htmlFor={ids.start}>Weekdays from</label>
        <input id={ids.start} type="time" value={start} onChange={(e) => setStart(e.target.value)} />{' '}
        <label htmlFor={ids.end}>to</label>
        <input id={ids.end} type="time" value={end} onChange={(e) => setEnd(e.target.value)} />
      </p>
      <button type="submit" className="btn btn-primary" disabled={busy}>
        Publish page
      </button>
    </form>
  );
}

function CalendarForm() {
  const { data, error, reload } = useLoad(getCalendar, []);
  const ids = { url: useId(), user: useId(), password: useId() };
  const [serverUrl, setServerUrl] = useState('');
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [failure, setFailure] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return <Spinner />;
  const run = async (f: () => Promise<unknown>) => {
    setBusy(true);
    setFailure(null);
    try {
      await f();
      setPassword('');
      reload();
    } catch (e) {
      setFailure(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card" aria-label="Calendar">
      <h2>Calendar (CalDAV)</h2>
      {data.connected ? (
        <>
          <p>
            Connected: {data.calendarUrl} ({data.username})
          </p>
          {data.lastError && (
            <Notice kind="warning" title="Your calendar could not be read">
              {data.lastError} Until it can, your booking pages offer no times (you are never shown as free when we cannot check).
            </Notice>
          )}
          <button type="button" className="btn btn-danger-outline" disabled={busy} onClick={() => run(disconnectCalendar)}>
            Disconnect calendar
          </button>
        </>
      ) : (
        <form onSubmit={(e) => { e.preventDefault(); void run(() => connectCalendar({ serverUrl, username, password })); }}>
          <p>Busy times in your calendar (recurring events included) block your booking pages, and bookings are added to it.</p>
          {failure && <Notice kind="error">{failure}</Notice>}
          <p>
            <label htmlFor={ids.url}>Server URL</label>
            <input id={ids.url} type="url" required value={serverUrl} onChange={(e) => setServerUrl(e.target.value)} placeholder="https://cloud.example.com/remote.php/dav" />
          </p>
          <p>
            <label htmlFor={ids.user}>User name</label>
            <input id={ids.user} required value={username} onChange={(e) => setUsername(e.target.value)} />
          </p>
          <p>
            <label htmlFor={ids.password}>Password (an app password where the provider has them)</label>
            <input id={ids.password} type="password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          </p>
          <button type="submit" className="btn btn-primary" disabled={busy}>
            Connect calendar
          </button>
        </form>
      )}
    </section>
  );
}

export function SettingsMeetingsPage() {
  const pages = useLoad(listMeetingTypes, []);
  const meetings = useLoad(listMeetings, []);
  const connections = useLoad(() => listConnections({ type: 'personal' }), []);
  const meetingsAddress = connections.data?.find((c) => c.useForMeetings && c.state !== 'disconnected');
  return (
    <div className="page">
      <PageTitle>Meetings</PageTitle>
      {connections.data && !meetingsAddress && (
        <Notice kind="warning" title="No meetings address">
          Booking pages send invitations from your own mailbox: connect your address as personal email and turn on "use for meetings" (Settings → Email). Team email cannot be used for meetings: a shared address has no one owner or calendar.
        </Notice>
      )}
      {meetingsAddress && <p>Invitations are sent from {meetingsAddress.address}.</p>}
      <h2>Booking pages</h2>
      {pages.error ? <Notice kind="error">{errorText(pages.error)}</Notice> : null}
      {pages.data && pages.data.length === 0 && <EmptyState title="No booking pages yet" />}
      <ul aria-label="Booking pages">
        {pages.data?.map((p) => (
          <li key={p.id}>
            <strong>{p.name}</strong> ({p.durationMin} min) — <a href={`/meet/${p.slug}`}>{p.url}</a>
          </li>
        ))}
      </ul>
      <NewPageForm onCreated={pages.reload} />
      <CalendarForm />
      <h2>Upcoming meetings</h2>
      {meetings.data && meetings.data.length === 0 && <EmptyState title="No meetings booked yet" />}
      <ul aria-label="Upcoming meetings">
        {meetings.data?.map((m) => (
          <li key={m.id}>
            {formatWhen(m.start, Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC')}: {m.visitorName} &lt;{m.visitorEmail}&gt; {m.status === 'cancelled' ? '(cancelled)' : ''}
            {m.calendarError ? ` — not on your calendar: ${m.calendarError}` : ''}
          </li>
        ))}
      </ul>
    </div>
  );
}
