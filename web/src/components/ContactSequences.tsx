/** On a contact's record: their sequence enrollments (state and reason), and enrolling them in one of the account's sequences. */
import { useState } from 'react';
import { errorText } from '../api/client.js';
import { enroll, listEnrollments, listSequences, unenroll } from '../api/sequences.js';
import { Badge, Notice, useLoad } from './ui.js';
import { formatDateTime } from '../lib/format.js';

export function ContactSequences({ contactId }: { contactId: string }) {
  const enrollments = useLoad(() => listEnrollments({ contactId }), [contactId]);
  const sequences = useLoad(() => listSequences(), []);
  const [choice, setChoice] = useState('');
  const [error, setError] = useState<string | null>(null);
  const act = async (f: () => Promise<unknown>) => {
    setError(null);
    try {
      await f();
      enrollments.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const live = enrollments.data?.find((e) => e.state === 'active' || e.state === 'paused');
  return (
    <section className="contact-sequences" aria-label="Sequences">
      <h2 className="small">Sequences</h2>
      <ul className="plain">
        {(enrollments.data ?? []).map((e) => (
          <li key={e.id}>
            {e.sequenceName ?? 'Sequence'} <Badge tone={e.state === 'active' ? 'good' : e.state === 'paused' ? 'warn' : 'neutral'}>{e.state}</Badge>{' '}
            {e.reason && <span className="muted small">{e.reason.replace(/_/g, ' ')}</span>}
            {e.nextStep?.dueAt && <span className="muted small"> · next {formatDateTime(e.nextStep.dueAt)}</span>}
            {(e.state === 'active' || e.state === 'paused') && (
              <button type="button" className="btn-link" onClick={() => act(() => unenroll(e.id ?? ''))}>
                Unenroll
              </button>
            )}
          </li>
        ))}
      </ul>
      {!live && (sequences.data?.length ?? 0) > 0 && (
        <div className="inline-form">
          <label htmlFor="contact-sequence">Enroll in</label>{' '}
          <select id="contact-sequence" value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="">Choose a sequence…</option>
            {(sequences.data ?? []).map((s) => (
              <option key={s.id} value={s.id}>
                {s.name}
              </option>
            ))}
          </select>{' '}
          <button type="button" disabled={!choice} onClick={() => act(() => enroll(choice, { contactId }))}>
            Enroll
          </button>
        </div>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
