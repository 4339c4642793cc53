import { useEffect, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import { createContact, importContacts, listContacts } from '../api/contacts.js';
import type { Contact, ImportReport } from '../api/types.js';
import { EmptyState, Field, Notice, PageTitle, Spinner } from '../components/ui.js';
import { Link, navigate, useLocation } from '../router.js';

function ImportReportView({ report }: { report: ImportReport }) {
  const s = report.summary;
  return (
    <div className="import-report" aria-live="polite">
      <h3>{report.dryRun ? 'Check of the file (nothing imported yet)' : 'Import finished'}</h3>
      <dl className="stats">
        <div>
          <dt>Rows</dt>
          <dd>{report.totalRows}</dd>
        </div>
        <div>
          <dt>{report.dryRun ? 'Would create' : 'Created'}</dt>
          <dd>{s.created}</dd>
        </div>
        <div>
          <dt>{report.dryRun ? 'Would update' : 'Updated'}</dt>
          <dd>{s.updated}</dd>
        </div>
        <div>
          <dt>Skipped</dt>
          <dd>{s.skipped}</dd>
        </div>
        <div>
          <dt>With errors</dt>
          <dd className={s.failed ? 'bad' : ''}>{s.failed}</dd>
        </div>
      </dl>
      {Object.keys(report.columns).length > 0 && (
        <p className="small">
          Columns used:{' '}
          {Object.entries(report.columns)
            .map(([field, column]) => `“${column}” → ${field}`)
            .join(', ')}
          {report.ignoredColumns.length > 0 && <> · ignored: {report.ignoredColumns.join(', ')}</>}
        </p>
      )}
      {report.errors.length > 0 && (
        <table className="table compact">
          <caption>Rows that could not be imported</caption>
          <thead>
            <tr>
              <th scope="col">Line</th>
              <th scope="col">Column</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {report.errors.map((e, i) => (
              <tr key={`${e.row}-${e.field}-${i}`}>
                <td>{e.row}</td>
                <td>{e.field || '—'}</td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}

function ImportPanel({ onDone, onClose }: { onDone: () => void; onClose: () => void }) {
  const [csv, setCsv] = useState('');
  const [fileName, setFileName] = useState<string | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  const run = async (dryRun: boolean) => {
    setBusy(true);
    setError(null);
    try {
      const r = await importContacts(csv, dryRun);
      setReport(r);
      if (!dryRun) onDone();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="card" role="region" aria-labelledby="import-title">
      <h2 id="import-title">Import contacts from a CSV file</h2>
      <p className="muted small">The first line names the columns (for example: First name, Last name, Email, Company). Check the file first to see what will happen.</p>
      <Field label="CSV file" id="import-file">
        <input
          id="import-file"
          type="file"
          accept=".csv,text/csv"
          onChange={async (e) => {
            const f = e.target.files?.[0];
            if (!f) return;
            setFileName(f.name);
            setCsv(await f.text());
            setReport(null);
          }}
        />
      </Field>
      <Field label={fileName ? `Contents of ${fileName}` : 'Or paste the CSV'} id="import-text">
        <textarea
          id="import-text"
          rows={6}
          value={csv}
          spellCheck={false}
          onChange={(e) => {
            setCsv(e.target.value);
            setReport(null);
          }}
        />
      </Field>
      {error && <Notice kind="error">{error}</Notice>}
      <div className="form-actions">
        <button type="button" className="btn" disabled={busy || !csv.trim()} onClick={() => run(true)}>
          Check the file
        </button>
        <button type="button" className="btn btn-primary" disabled={busy || !csv.trim()} onClick={() => run(false)}>
          {busy ? 'Working…' : 'Import'}
        </button>
        <button type="button" className="btn" onClick={onClose}>
          Close
        </button>
      </div>
      {report && <ImportReportView report={report} />}
    </div>
  );
}

function NewContactForm({ onCreated, onClose }: { onCreated: (c: Contact) => void; onClose: () => void }) {
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      onCreated(await createContact({ name: name.trim() || undefined, emails: email.trim() ? [email.trim()] : undefined }));
    } catch (err) {
      setError(errorText(err));
    }
  };
  return (
    <form className="card inline-form" onSubmit={submit} aria-label="New contact">
      <Field label="Name" id="new-contact-name">
        <input id="new-contact-name" value={name} onChange={(e) => setName(e.target.value)} />
      </Field>
      <Field label="Email" id="new-contact-email">
        <input id="new-contact-email" type="email" value={email} onChange={(e) => setEmail(e.target.value)} />
      </Field>
      <button type="submit" className="btn btn-primary">
        Create contact
      </button>
      <button type="button" className="btn" onClick={onClose}>
        Cancel
      </button>
      {error && <Notice kind="error">{error}</Notice>}
    </form>
  );
}

export function ContactsPage() {
  const { search } = useLocation();
  const q = search.get('q') ?? '';
  const [text, setText] = useState(q);
  const [contacts, setContacts] = useState<Contact[] | null>(null);
  const [next, setNext] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(false);
  const [panel, setPanel] = useState<'none' | 'import' | 'new'>('none');
  const [tick, setTick] = useState(0);

  // Search as you type, a moment after the last key.
  useEffect(() => {
    const t = window.setTimeout(() => {
      if (text !== q) navigate(text ? `/contacts?q=${encodeURIComponent(text)}` : '/contacts', { replace: true });
    }, 250);
    return () => window.clearTimeout(t);
  }, [text, q]);

  useEffect(() => {
    let live = true;
    setLoading(true);
    listContacts({ q: q || undefined }).then(
      (r) => {
        if (!live) return;
        setContacts(r.contacts);
        setNext(r.nextCursor);
        setError(null);
        setLoading(false);
      },
      (e) => {
        if (!live) return;
        setError(errorText(e));
        setLoading(false);
      },
    );
    return () => {
      live = false;
    };
  }, [q, tick]);

  const more = async () => {
    if (!next) return;
    setLoading(true);
    try {
      const r = await listContacts({ q: q || undefined, cursor: next });
      setContacts((c) => [...(c ?? []), ...r.contacts]);
      setNext(r.nextCursor);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setLoading(false);
    }
  };

  return (
    <section className="page">
      <PageTitle
        actions={
          <>
            <button type="button" className="btn" onClick={() => setPanel(panel === 'import' ? 'none' : 'import')} aria-expanded={panel === 'import'}>
              Import CSV
            </button>
            <button type="button" className="btn btn-primary" onClick={() => setPanel(panel === 'new' ? 'none' : 'new')} aria-expanded={panel === 'new'}>
              New contact
            </button>
          </>
        }
      >
        Contacts
      </PageTitle>
      {panel === 'import' && <ImportPanel onDone={() => setTick((t) => t + 1)} onClose={() => setPanel('none')} />}
      {panel === 'new' && <NewContactForm onCreated={(c) => navigate(`/contacts/${c.id}`)} onClose={() => setPanel('none')} />}
      <div className="search" role="search">
        <label htmlFor="contact-search" className="sr-only">
          Search contacts
        </label>
        <input id="contact-search" type="search" placeholder="Search by name, email or company" value={text} onChange={(e) => setText(e.target.value)} />
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      {contacts === null && loading && <Spinner />}
      {contacts && contacts.length === 0 && (
        <EmptyState title={q ? `No contacts match “${q}”` : 'No contacts yet'}>
          {!q && <p>Import a CSV file, or connect your email: people you write to appear here.</p>}
        </EmptyState>
      )}
      {contacts && contacts.length > 0 && (
        <table className="table responsive-table contacts-table">
          <caption className="sr-only">Contacts</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">Email</th>
              <th scope="col">Company</th>
            </tr>
          </thead>
          <tbody>
            {contacts.map((c) => (
              <tr key={c.id}>
                <td data-label="Name">
                  <Link to={`/contacts/${c.id}`}>{c.name || c.primaryEmail || 'Unnamed contact'}</Link>
                </td>
                <td data-label="Email">{c.primaryEmail ?? '—'}</td>
                <td data-label="Company">{c.company?.name ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {next && (
        <button type="button" className="btn" onClick={more} disabled={loading}>
          {loading ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  );
}
