/**
 * Sequences: the account's sequences, a steps editor (emails with tokens, manual email / call / general
 * tasks, delays in business days or hours, send window, weekdays, threading), enrolling a contact from
 * your own mailbox, the enrollments with their state and reason, and your open tasks.
 */
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import { listContacts } from '../api/contacts.js';
import {
  archiveSequence,
  completeTask,
  createSequence,
  enroll,
  enrollMany,
  type BulkEnrollResult,
  getSequence,
  listEnrollments,
  listSequences,
  listTasks,
  resume,
  unenroll,
  updateSequence,
  type Sequence,
  type StepInput,
} from '../api/sequences.js';
import { Badge, EmptyState, Field, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { formatDateTime } from '../lib/format.js';

const STEP_LABEL: Record<string, string> = { email: 'Automated email', manual_email: 'Manual email task', call: 'Call task', task: 'General task' };
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];
const STATE_TONE: Record<string, 'good' | 'warn' | 'bad' | 'neutral' | 'info'> = { active: 'good', paused: 'warn', finished: 'info', unenrolled: 'neutral' };

interface DraftStep {
  /** A stable React key for the editor's rows. */
  key: number;
  type: string;
  unit: string;
  value: number;
  /** The email's variants (A/B testing): each enrollment gets one, the same one every time. */
  variants: Array<{ key: number; subject: string; html: string }>;
  note: string;
}

const MAX_VARIANTS = 5;
const variantName = (k: number) => String.fromCharCode(65 + k);

let nextKey = 1;
const emptyStep = (first: boolean): DraftStep => ({ key: nextKey++, type: 'email', unit: 'business_days', value: first ? 0 : 2, variants: [{ key: nextKey++, subject: '', html: '' }], note: '' });

function draftFrom(s: Sequence | null): { name: string; timeZone: string; start: string; end: string; weekdays: number[]; threaded: boolean; company: boolean; steps: DraftStep[] } {
  if (!s) return { name: '', timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone, start: '08:00', end: '18:00', weekdays: [1, 2, 3, 4, 5], threaded: true, company: false, steps: [emptyStep(true)] };
  return {
    name: s.name ?? '',
    timeZone: s.settings?.timeZone ?? 'UTC',
    start: s.settings?.window?.start ?? '08:00',
    end: s.settings?.window?.end ?? '18:00',
    weekdays: s.settings?.weekdays ?? [1, 2, 3, 4, 5],
    threaded: s.settings?.threaded ?? true,
    company: s.settings?.unenrollOnCompanyReply ?? false,
    steps: (s.steps ?? []).map((st) => ({
      key: nextKey++,
      type: st.type ?? 'email',
      unit: st.delay?.unit ?? 'business_days',
      value: st.delay?.value ?? 0,
      variants: st.variants?.length ? st.variants.map((v) => ({ key: nextKey++, subject: v.subject ?? '', html: v.html ?? '' })) : [{ key: nextKey++, subject: '', html: '' }],
      note: st.note ?? '',
    })),
  };
}

function Editor({ sequence, onSaved, onCancel }: { sequence: Sequence | null; onSaved: (s: Sequence) => void; onCancel: () => void }) {
  const [d, setD] = useState(() => draftFrom(sequence));
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const setStep = (i: number, patch: Partial<DraftStep>) => setD({ ...d, steps: d.steps.map((s, j) => (j === i ? { ...s, ...patch } : s)) });
  const setVariant = (i: number, k: number, patch: Partial<DraftStep['variants'][number]>) => setStep(i, { variants: d.steps[i]!.variants.map((v, j) => (j === k ? { ...v, ...patch } : v)) });
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const steps: StepInput[] = d.steps.map((s) => ({
      type: s.type,
      delay: { unit: s.unit, value: Number(s.value) },
      ...(s.type === 'email' ? { variants: s.variants.map((v) => ({ subject: v.subject, html: v.html })) } : { note: s.note }),
    }));
    const body = { name: d.name, settings: { timeZone: d.timeZone, window: { start: d.start, end: d.end }, weekdays: d.weekdays, threaded: d.threaded, unenrollOnCompanyReply: d.company }, steps };
    try {
      onSaved(sequence?.id ? await updateSequence(sequence.id, body) : await createSequence(body));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card sequence-editor" onSubmit={submit} aria-label="Sequence editor">
      {sequence && <Notice kind="info">Changes apply to contacts enrolled from now on; contacts already enrolled keep the version they started with.</Notice>}
      <Field id="seq-name" label="Name">
        <input id="seq-name" value={d.name} onChange={(e) => setD({ ...d, name: e.target.value })} required />
      </Field>
      <fieldset>
        <legend>When emails go out</legend>
        <Field id="seq-zone" label="Time zone" hint="Used when the contact's time zone is not known">
          <input id="seq-zone" value={d.timeZone} onChange={(e) => setD({ ...d, timeZone: e.target.value })} />
        </Field>
        <Field id="seq-start" label="Send window from">
          <input id="seq-start" type="time" value={d.start} onChange={(e) => setD({ ...d, start: e.target.value })} />
        </Field>
        <Field id="seq-end" label="to">
          <input id="seq-end" type="time" value={d.end} onChange={(e) => setD({ ...d, end: e.target.value })} />
        </Field>
        <fieldset>
          <legend>Sending days</legend>
          {DAYS.map((name, i) => (
            <label key={name}>
              <input type="checkbox" checked={d.weekdays.includes(i + 1)} onChange={(e) => setD({ ...d, weekdays: e.target.checked ? [...d.weekdays, i + 1].sort() : d.weekdays.filter((x) => x !== i + 1) })} /> {name}{' '}
            </label>
          ))}
        </fieldset>
        <label>
          <input type="checkbox" checked={d.threaded} onChange={(e) => setD({ ...d, threaded: e.target.checked })} /> Send follow-ups in the same thread ("Re: first subject")
        </label>
        <label>
          <input type="checkbox" checked={d.company} onChange={(e) => setD({ ...d, company: e.target.checked })} /> Unenroll when anyone at the same company replies
        </label>
      </fieldset>
      <ol className="sequence-steps">
        {d.steps.map((s, i) => (
          <li key={s.key} className="card">
            <Field id={`step-${i}-type`} label={`Step ${i + 1}`}>
              <select id={`step-${i}-type`} value={s.type} onChange={(e) => setStep(i, { type: e.target.value })}>
                {Object.entries(STEP_LABEL).map(([v, l]) => (
                  <option key={v} value={v}>
                    {l}
                  </option>
                ))}
              </select>
            </Field>
            <Field id={`step-${i}-delay`} label={i === 0 ? 'After enrolling' : 'After the previous step'}>
              <span>
                <input id={`step-${i}-delay`} type="number" min={0} max={s.unit === 'hours' ? 2160 : 90} value={s.value} onChange={(e) => setStep(i, { value: Number(e.target.value) })} />{' '}
                <select aria-label={`Step ${i + 1} delay unit`} value={s.unit} onChange={(e) => setStep(i, { unit: e.target.value })}>
                  <option value="business_days">business days</option>
                  <option value="hours">hours</option>
                </select>
              </span>
            </Field>
            {s.type === 'email' ? (
              <>
                {s.variants.map((v, k) => {
                  const id = k === 0 ? `step-${i}` : `step-${i}-v${k}`;
                  return (
                    <fieldset key={v.key} className="sequence-variant" aria-label={`Step ${i + 1} variant ${variantName(k)}`}>
                      {s.variants.length > 1 && <legend>Variant {variantName(k)}</legend>}
                      <Field id={`${id}-subject`} label="Subject" hint={i > 0 ? 'Empty: "Re: " and the first subject' : 'Tokens such as {{ contact.firstName | "there" }} work here'}>
                        <input id={`${id}-subject`} value={v.subject} onChange={(e) => setVariant(i, k, { subject: e.target.value })} />
                      </Field>
                      <Field id={`${id}-html`} label="Email" hint="Your signature and default font are added">
                        <textarea id={`${id}-html`} rows={5} value={v.html} onChange={(e) => setVariant(i, k, { html: e.target.value })} />
                      </Field>
                      {k > 0 && (
                        <button type="button" className="btn-link" onClick={() => setStep(i, { variants: s.variants.filter((_, j) => j !== k) })}>
                          Remove variant {variantName(k)}
                        </button>
                      )}
                    </fieldset>
                  );
                })}
                {s.variants.length < MAX_VARIANTS && (
                  <button type="button" className="btn-link" onClick={() => setStep(i, { variants: [...s.variants, { key: nextKey++, subject: s.variants[0]?.subject ?? '', html: '' }] })}>
                    Add an A/B variant to step {i + 1}
                  </button>
                )}
                {s.variants.length > 1 && <p className="muted small">Each contact gets one variant, always the same one; the stats below the steps compare them.</p>}
              </>
            ) : (
              <Field id={`step-${i}-note`} label="Task notes">
                <textarea id={`step-${i}-note`} rows={2} value={s.note} onChange={(e) => setStep(i, { note: e.target.value })} />
              </Field>
            )}
            {d.steps.length > 1 && (
              <button type="button" className="btn-link" onClick={() => setD({ ...d, steps: d.steps.filter((_, j) => j !== i) })}>
                Remove step {i + 1}
              </button>
            )}
          </li>
        ))}
      </ol>
      <button type="button" onClick={() => setD({ ...d, steps: [...d.steps, emptyStep(false)] })}>
        Add a step
      </button>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn-primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save sequence'}
        </button>{' '}
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}

function EnrollForm({ sequenceId, onEnrolled }: { sequenceId: string; onEnrolled: () => void }) {
  const [q, setQ] = useState('');
  const [matches, setMatches] = useState<Array<{ id: string; name: string; primaryEmail: string | null }>>([]);
  const [message, setMessage] = useState<{ kind: 'error' | 'success'; text: string } | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [bulk, setBulk] = useState<BulkEnrollResult | null>(null);
  const enrollChosen = async () => {
    setMessage(null);
    setBulk(null);
    try {
      const r = await enrollMany(sequenceId, { contactIds: chosen });
      setBulk(r);
      setChosen([]);
      onEnrolled();
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    }
  };
  const nameOf = (id: string) => {
    const c = matches.find((m) => m.id === id);
    return c ? c.name || c.primaryEmail || id : id;
  };
  const search = async (e: FormEvent) => {
    e.preventDefault();
    const r = await listContacts({ q, limit: 50 });
    setMatches((r.contacts ?? []).map((c) => ({ id: c.id ?? '', name: c.name ?? '', primaryEmail: c.primaryEmail ?? null })));
  };
  const add = async (contactId: string) => {
    setMessage(null);
    try {
      await enroll(sequenceId, { contactId });
      setMessage({ kind: 'success', text: 'Enrolled. The first step goes out from your mailbox at its time.' });
      onEnrolled();
    } catch (err) {
      setMessage({ kind: 'error', text: errorText(err) });
    }
  };
  return (
    <section aria-label="Enroll a contact">
      <form onSubmit={search} className="inline-form">
        <Field id="enroll-q" label="Enroll a contact">
          <input id="enroll-q" type="search" placeholder="Name or email" value={q} onChange={(e) => setQ(e.target.value)} />
        </Field>
        <button type="submit">Find</button>
      </form>
      <ul>
        {matches.map((c) => (
          <li key={c.id}>
            <label>
              <input type="checkbox" checked={chosen.includes(c.id)} onChange={(e) => setChosen(e.target.checked ? [...chosen, c.id] : chosen.filter((x) => x !== c.id))} /> {c.name || c.primaryEmail}
            </label>{' '}
            <span className="muted small">{c.primaryEmail}</span>{' '}
            <button type="button" onClick={() => add(c.id)}>
              Enroll
            </button>
          </li>
        ))}
      </ul>
      {matches.length > 1 && (
        <button type="button" disabled={!chosen.length} onClick={enrollChosen}>
          Enroll {chosen.length} selected
        </button>
      )}
      {message && <Notice kind={message.kind}>{message.text}</Notice>}
      {bulk && (
        <section aria-label="Enrollment results">
          <p>
            {bulk.enrolled} enrolled, {bulk.refused} not enrolled.
          </p>
          <ul>
            {(bulk.results ?? []).map((r) => (
              <li key={r.contactId}>
                {nameOf(r.contactId)}: {r.enrolled ? 'enrolled' : r.message}
              </li>
            ))}
          </ul>
        </section>
      )}
    </section>
  );
}

interface StepStats {
  stepIndex: number;
  variant: number;
  queued: number;
  sent: number;
  delivered: number;
  bounced: number;
  replied: number;
  unsubscribed: number;
  meetingsBooked: number;
  opened: number | null;
  clicked: number | null;
  replyRate: number | null;
}

/** Per step and variant: what went out and what came of it (replies, bounces... credited to the last email a contact got). */
function StepStatsTable({ steps, sequence, note }: { steps: StepStats[]; sequence: Sequence; note?: string }) {
  const pct = (x: number | null) => (x === null ? '—' : `${Math.round(x * 1000) / 10}%`);
  return (
    <>
      <table className="table" aria-label="Stats per step and variant">
        <thead>
          <tr>
            <th>Step</th>
            <th>Queued</th>
            <th>Sent</th>
            <th>Delivered</th>
            <th>Opened</th>
            <th>Clicked</th>
            <th>Replied</th>
            <th>Reply rate</th>
            <th>Bounced</th>
            <th>Unsubscribed</th>
            <th>Meetings</th>
          </tr>
        </thead>
        <tbody>
          {steps.map((r) => {
            const many = (sequence.steps?.[r.stepIndex]?.variants?.length ?? 0) > 1;
            return (
              <tr key={`${r.stepIndex}/${r.variant}`}>
                <th scope="row">
                  Step {r.stepIndex + 1}
                  {many ? ` · variant ${variantName(r.variant)}` : ''}
                </th>
                <td>{r.queued}</td>
                <td>{r.sent}</td>
                <td>{r.delivered}</td>
                <td>{r.opened ?? '—'}</td>
                <td>{r.clicked ?? '—'}</td>
                <td>{r.replied}</td>
                <td>{pct(r.replyRate)}</td>
                <td>{r.bounced}</td>
                <td>{r.unsubscribed}</td>
                <td>{r.meetingsBooked}</td>
              </tr>
            );
          })}
        </tbody>
      </table>
      {note && <p className="muted small">{note}</p>}
    </>
  );
}

function Detail({ id, onEdit, onArchived }: { id: string; onEdit: (s: Sequence) => void; onArchived: () => void }) {
  const seq = useLoad(() => getSequence(id), [id]);
  const enrollments = useLoad(() => listEnrollments({ sequenceId: id }), [id]);
  const [error, setError] = useState<string | null>(null);
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      enrollments.reload();
      seq.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  if (seq.loading && !seq.data) return <Spinner />;
  if (seq.error || !seq.data) return <Notice kind="error">{errorText(seq.error)}</Notice>;
  const s = seq.data;
  const stats = s.stats as (Record<string, number> & { steps?: StepStats[]; tracking?: string }) | undefined;
  return (
    <section className="card" aria-label={`Sequence ${s.name}`}>
      <h2>{s.name}</h2>
      <p className="muted small">
        Version {s.version} · {s.settings?.window?.start}–{s.settings?.window?.end} {s.settings?.timeZone} · {s.settings?.threaded ? 'threaded follow-ups' : 'separate emails'}
      </p>
      <button type="button" onClick={() => onEdit(s)}>
        Edit steps
      </button>{' '}
      <button type="button" onClick={() => act(() => archiveSequence(id)).then(onArchived)}>
        Archive
      </button>
      <ol>
        {(s.steps ?? []).map((st, i) => (
          <li key={st.id ?? i}>
            {STEP_LABEL[st.type ?? ''] ?? st.type} — {st.delay?.value} {st.delay?.unit === 'hours' ? 'hours' : 'business days'}{' '}
            {(st.variants?.length ?? 0) > 1 ? `· ${st.variants!.length} variants: ${st.variants!.map((v, k) => `${variantName(k)} “${v.subject || 'Re:'}”`).join(', ')}` : st.variants?.[0]?.subject ? `· “${st.variants[0].subject}”` : ''}
          </li>
        ))}
      </ol>
      {stats && (
        <p className="small">
          Enrolled {stats.enrolled ?? 0} · active {stats.active ?? 0} · paused {stats.paused ?? 0} · replied {stats.replied ?? 0} · bounced {stats.bounced ?? 0} · unsubscribed {stats.unsubscribed ?? 0} · meetings {stats.meetings ?? 0} · finished {stats.finished ?? 0}
        </p>
      )}
      {stats?.steps && stats.steps.length > 0 && <StepStatsTable steps={stats.steps} sequence={s} note={stats.tracking} />}
      <EnrollForm sequenceId={id} onEnrolled={() => act(async () => {})} />
      {error && <Notice kind="error">{error}</Notice>}
      <h3>Enrollments</h3>
      {!enrollments.data?.length ? (
        <p className="muted">Nobody is enrolled yet.</p>
      ) : (
        <table className="table">
          <thead>
            <tr>
              <th>Contact</th>
              <th>State</th>
              <th>Next step</th>
              <th>Enrolled</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {enrollments.data.map((e) => (
              <tr key={e.id}>
                <td>{e.contactName ?? e.contactEmail}</td>
                <td>
                  <Badge tone={STATE_TONE[e.state ?? ''] ?? 'neutral'}>{e.state}</Badge> {e.reason && <span className="muted small">{e.reason.replace(/_/g, ' ')}</span>}
                </td>
                <td>{e.nextStep ? `Step ${(e.nextStep.index ?? 0) + 1} · ${formatDateTime(e.nextStep.dueAt)}` : '—'}</td>
                <td>{formatDateTime(e.enrolledAt)}</td>
                <td>
                  {(e.state === 'active' || e.state === 'paused') && (
                    <button type="button" onClick={() => act(() => unenroll(e.id ?? ''))}>
                      Unenroll
                    </button>
                  )}{' '}
                  {e.state === 'paused' && (
                    <button type="button" onClick={() => act(() => resume(e.id ?? ''))}>
                      Resume
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Tasks() {
  const tasks = useLoad(() => listTasks(), []);
  if (!tasks.data?.length) return null;
  return (
    <section className="card" aria-label="Your sequence tasks">
      <h2>Your tasks</h2>
      <ul>
        {tasks.data.map((t) => (
          <li key={`${t.enrollmentId}-${t.stepIndex}`}>
            {STEP_LABEL[t.type ?? ''] ?? t.type}: {t.contactEmail} {t.subject && `· ${t.subject}`} <span className="muted small">due {formatDateTime(t.dueAt)}</span>{' '}
            <button type="button" onClick={() => completeTask(t.enrollmentId ?? '', t.stepIndex ?? 0).then(tasks.reload)}>
              Done
            </button>
          </li>
        ))}
      </ul>
    </section>
  );
}

export function SequencesPage() {
  const list = useLoad(() => listSequences(), []);
  const [selected, setSelected] = useState<string | null>(null);
  const [editing, setEditing] = useState<Sequence | null | 'new'>(null);
  /** Bumped on save: the detail shows the saved version, not the one it loaded before. */
  const [revision, setRevision] = useState(0);
  return (
    <section className="page sequences-page">
      <PageTitle
        actions={
          <button type="button" className="btn-primary" onClick={() => setEditing('new')}>
            New sequence
          </button>
        }
      >
        Sequences
      </PageTitle>
      <Tasks />
      {editing && (
        <Editor
          sequence={editing === 'new' ? null : editing}
          onCancel={() => setEditing(null)}
          onSaved={(s) => {
            setEditing(null);
            setSelected(s.id ?? null);
            setRevision((r) => r + 1);
            list.reload();
          }}
        />
      )}
      {list.loading && !list.data ? (
        <Spinner />
      ) : list.error ? (
        <Notice kind="error">{errorText(list.error)}</Notice>
      ) : !list.data?.length ? (
        <EmptyState title="No sequences yet">
          <p>A sequence sends timed follow-ups from your own mailbox and stops the moment the contact answers.</p>
        </EmptyState>
      ) : (
        <ul className="sequence-list">
          {list.data.map((s) => (
            <li key={s.id}>
              <button type="button" aria-pressed={selected === s.id} onClick={() => setSelected(s.id ?? null)}>
                {s.name}
              </button>{' '}
              <span className="muted small">
                {s.steps?.length ?? 0} steps · {s.enrollments?.active ?? 0} active
              </span>
            </li>
          ))}
        </ul>
      )}
      {selected && (
        <Detail
          key={`${selected}/${revision}`}
          id={selected}
          onEdit={(s) => setEditing(s)}
          onArchived={() => {
            setSelected(null);
            list.reload();
          }}
        />
      )}
    </section>
  );
}
