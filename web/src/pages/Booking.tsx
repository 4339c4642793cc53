/**
 * The public booking page (/meet/:slug) and the visitor's manage page (/meet/manage/:token): no sign-in,
 * slots shown in the visitor's own time zone (detected, changeable), plain HTML controls.
 */
import { useEffect, useId, useState } from 'react';
import { ApiError, errorText } from '../api/client.js';
import { book, cancelBooking, getBookingPage, getManagedMeeting, rescheduleBooking, type Booked, type BookingPage as Page, type ManagedMeeting } from '../api/meetings.js';
import { Notice, Spinner } from '../components/ui.js';

const detectedZone = () => {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  } catch {
    return 'UTC';
  }
};

const COMMON_ZONES = ['UTC', 'America/Los_Angeles', 'America/Denver', 'America/Chicago', 'America/New_York', 'America/Sao_Paulo', 'Europe/London', 'Europe/Paris', 'Europe/Berlin', 'Africa/Johannesburg', 'Asia/Dubai', 'Asia/Kolkata', 'Asia/Kathmandu', 'Asia/Singapore', 'Asia/Tokyo', 'Australia/Sydney', 'Australia/Lord_Howe', 'Pacific/Auckland'];

export function formatWhen(iso: string, zone: string): string {
  return new Intl.DateTimeFormat(undefined, { timeZone: zone, weekday: 'long', day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
}

const dayTitle = (date: string) => new Intl.DateTimeFormat(undefined, { timeZone: 'UTC', weekday: 'long', day: 'numeric', month: 'long' }).format(new Date(`${date}T12:00:00Z`));

function ZonePicker({ zone, onChange }: { zone: string; onChange: (z: string) => void }) {
  const id = useId();
  const zones = COMMON_ZONES.includes(zone) ? COMMON_ZONES : [zone, ...COMMON_ZONES];
  return (
    <p className="booking-zone">
      <label htmlFor={id}>Times are shown in </label>
      <select id={id} value={zone} onChange={(e) => onChange(e.target.value)}>
        {zones.map((z) => (
          <option key={z} value={z}>
            {z.replace(/_/g, ' ')}
          </option>
        ))}
      </select>
    </p>
  );
}

function Slots({ page, onPick, picked }: { page: Page; onPick: (start: string) => void; picked: string | null }) {
  if (page.unavailable) return <Notice kind="warning" title="No times available right now">The host's calendar cannot be checked at the moment, so no time can be offered. Try again later.</Notice>;
  if (!page.slotDays.length) return <Notice>No free times in these days.</Notice>;
  return (
    <div className="booking-days">
      {page.slotDays.map((d) => (
        <section key={d.date} className="booking-day" aria-label={dayTitle(d.date)}>
          <h2>{dayTitle(d.date)}</h2>
          <ul className="booking-slots">
            {d.slots.map((s) => (
              <li key={s.start}>
                <button type="button" className={`btn btn-small${picked === s.start ? ' btn-primary' : ''}`} aria-pressed={picked === s.start} onClick={() => onPick(s.start)}>
                  {s.label}
                </button>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </div>
  );
}

function usePage(slug: string, zone: string, from: string | undefined) {
  const [page, setPage] = useState<Page | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [version, setVersion] = useState(0);
  // biome-ignore lint/correctness/useExhaustiveDependencies: `version` re-runs the load on demand (reload after "just taken")
  useEffect(() => {
    if (!slug) return;
    let live = true;
    setError(null);
    getBookingPage(slug, { timeZone: zone, days: 7, ...(from ? { from } : {}) }).then(
      (p) => live && setPage(p),
      (e) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [slug, zone, from, version]);
  return { page, error, reload: () => setVersion((v) => v + 1) };
}

const addDays = (date: string, n: number) => new Date(Date.parse(`${date}T12:00:00Z`) + n * 86_400_000).toISOString().slice(0, 10);

export function BookingPage({ slug }: { slug: string }) {
  const [zone, setZone] = useState(detectedZone);
  const [from, setFrom] = useState<string | undefined>(undefined);
  const { page, error, reload } = usePage(slug, zone, from);
  const [picked, setPicked] = useState<string | null>(null);
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [answers, setAnswers] = useState<Record<string, string>>({});
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<{ message: string; next: string[] } | null>(null);
  const [done, setDone] = useState<Booked | null>(null);
  const ids = { name: useId(), email: useId() };

  if (error) return <main className="booking">{error instanceof ApiError && error.status === 404 ? <><h1>This booking page does not exist</h1><Notice kind="error">Check the link you were given.</Notice></> : <><h1>Booking</h1><Notice kind="error">{errorText(error)}</Notice></>}</main>;
  if (!page) return <main className="booking"><Spinner label="Loading the booking page…" /></main>;

  if (done) {
    return (
      <main className="booking">
        <h1>{page.page.name}</h1>
        <Notice kind="success" title="You are booked">
          {formatWhen(done.meeting.start, zone)} with {done.meeting.hostName}. An invitation is on its way to {email}.
        </Notice>
        <p>
          <a href={`/meet/manage/${encodeURIComponent(done.manageToken)}`}>Reschedule or cancel</a>
        </p>
      </main>
    );
  }

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    if (!picked) return;
    setBusy(true);
    setFailure(null);
    try {
      setDone(await book(slug, { start: picked, name, email, timeZone: zone, answers }));
    } catch (err) {
      const next = err instanceof ApiError && err.code === 'slot_taken' && Array.isArray(err.details.nextSlots) ? err.details.nextSlots.filter((x): x is string => typeof x === 'string') : [];
      setFailure({ message: errorText(err), next });
      if (next.length) {
        setPicked(null);
        reload();
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="booking">
      <h1>{page.page.name}</h1>
      <p className="booking-meta">
        {page.page.durationMin} minutes with {page.page.hostNames.join(page.page.kind === 'group' ? ' and ' : ' or ')}
      </p>
      {page.page.description && <p>{page.page.description}</p>}
      <ZonePicker zone={zone} onChange={(z) => { setZone(z); setPicked(null); }} />
      <nav className="booking-nav" aria-label="Days">
        <button type="button" className="btn btn-small" disabled={!from} onClick={() => setFrom(from ? addDays(from, -7) : undefined)}>
          Earlier
        </button>
        <button type="button" className="btn btn-small" onClick={() => setFrom(addDays(page.from, 7))}>
          Later
        </button>
      </nav>
      {failure && (
        <Notice kind="error" title={failure.message}>
          {failure.next.length > 0 && (
            <>
              Next free times:{' '}
              {failure.next.map((s, i) => (
                <span key={s}>
                  {i > 0 && ', '}
                  <button type="button" className="link-button" onClick={() => { setPicked(s); setFailure(null); }}>
                    {formatWhen(s, zone)}
                  </button>
                </span>
              ))}
            </>
          )}
        </Notice>
      )}
      <Slots page={page} picked={picked} onPick={setPicked} />
      {picked && (
        <form className="booking-form" onSubmit={submit} aria-label="Your details">
          <h2>{formatWhen(picked, zone)}</h2>
          <p>
            <label htmlFor={ids.name}>Your name</label>
            <input id={ids.name} required value={name} onChange={(e) => setName(e.target.value)} autoComplete="name" />
          </p>
          <p>
            <label htmlFor={ids.email}>Your email</label>
            <input id={ids.email} type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="email" />
          </p>
          {page.page.questions.map((q) => (
            <p key={q.id}>
              <label htmlFor={`q-${q.id}`}>{q.label}{q.required ? '' : ' (optional)'}</label>
              <input id={`q-${q.id}`} required={q.required} value={answers[q.id] ?? ''} onChange={(e) => setAnswers({ ...answers, [q.id]: e.target.value })} />
            </p>
          ))}
          <button type="submit" className="btn btn-primary" disabled={busy}>
            {busy ? 'Booking…' : 'Book this time'}
          </button>
        </form>
      )}
    </main>
  );
}

export function ManageBookingPage({ token }: { token: string }) {
  const [meeting, setMeeting] = useState<ManagedMeeting | null>(null);
  const [error, setError] = useState<unknown>(null);
  const [zone, setZone] = useState(detectedZone);
  const [moving, setMoving] = useState(false);
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  useEffect(() => {
    getManagedMeeting(token).then(setMeeting, setError);
  }, [token]);
  const { page } = usePage(meeting?.pageSlug ?? '', zone, undefined);

  if (error) return <main className="booking"><h1>This link is not valid</h1><Notice kind="error">{errorText(error)}</Notice></main>;
  if (!meeting) return <main className="booking"><Spinner label="Loading your booking…" /></main>;
  const act = async (f: () => Promise<ManagedMeeting>) => {
    setBusy(true);
    setActionError(null);
    try {
      setMeeting(await f());
      setMoving(false);
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="booking">
      <h1>{meeting.pageName}</h1>
      {meeting.status === 'cancelled' ? (
        <Notice kind="info" title="This meeting is cancelled" />
      ) : (
        <Notice kind="success" title={formatWhen(meeting.start, zone)}>
          with {meeting.hostName}
        </Notice>
      )}
      <ZonePicker zone={zone} onChange={setZone} />
      {actionError && <Notice kind="error">{actionError}</Notice>}
      {meeting.status === 'booked' && (
        <p className="booking-actions">
          <button type="button" className="btn" onClick={() => setMoving((m) => !m)} aria-expanded={moving}>
            Reschedule
          </button>{' '}
          <button type="button" className="btn btn-danger-outline" disabled={busy} onClick={() => act(() => cancelBooking(token))}>
            Cancel meeting
          </button>
        </p>
      )}
      {moving && page && <Slots page={page} picked={null} onPick={(s) => act(() => rescheduleBooking(token, s))} />}
    </main>
  );
}
