/**
 * Settings → Email → Templates and snippets: what you reuse when writing from a contact's record.
 * Templates are a subject and a body; snippets are short pieces with a /shortcut. Yours are private;
 * admins may share one with the whole account. Tokens are checked when saving.
 */
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import { createTemplate, deleteTemplate, listTemplates, type EmailTemplate } from '../api/compose.js';
import { EmptyState, Notice, Spinner, useLoad } from './ui.js';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
/** Plain text as typed → simple HTML paragraphs (tokens such as {{ contact.firstName }} are kept as text). */
const textToParagraphs = (text: string) =>
  text
    .trim()
    .split(/\n{2,}/)
    .map((p) => `<p>${escapeHtml(p).replace(/\n/g, '<br>')}</p>`)
    .join('');
const htmlToPlain = (html: string) => html.replace(/<br\s*\/?>/gi, '\n').replace(/<\/p>\s*<p>/gi, '\n\n').replace(/<[^>]+>/g, '').replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&amp;/g, '&');

export function TemplatesSettings({ isAdmin }: { isAdmin: boolean }) {
  const templates = useLoad(() => listTemplates(), []);
  const [kind, setKind] = useState<'template' | 'snippet'>('template');
  const [name, setName] = useState('');
  const [subject, setSubject] = useState('');
  const [body, setBody] = useState('');
  const [shortcut, setShortcut] = useState('');
  const [shared, setShared] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState<string | null>(null);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setSaved(null);
    setBusy(true);
    try {
      const t = await createTemplate({ kind, name, html: textToParagraphs(body), ...(kind === 'template' ? { subject } : { shortcut: shortcut || null }), ...(isAdmin ? { shared } : {}) });
      setSaved(`Saved "${t.name}". Choose it when you write from a contact's record.`);
      setName('');
      setSubject('');
      setBody('');
      setShortcut('');
      setShared(false);
      templates.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const remove = async (t: EmailTemplate) => {
    if (!window.confirm(`Delete the ${t.kind} "${t.name}"? Emails already sent keep their text.`)) return;
    setError(null);
    try {
      await deleteTemplate(t.id);
      templates.reload();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const all = templates.data?.templates ?? [];
  return (
    <section className="card" aria-labelledby="templates-title">
      <h2 id="templates-title">Templates and snippets</h2>
      <p className="muted small">
        Reuse what you write often. Personalize with tokens such as {'{{ contact.firstName | "there" }}'}, {'{{ company.name }}'} or {'{{ sender.firstName }}'}: a token without a value for a contact is
        pointed out before sending, never sent as is.
      </p>
      {templates.loading && !templates.data && <Spinner />}
      {templates.data && all.length === 0 && <EmptyState title="No templates yet">Save your first one below; it will be in the Template menu when you write to a contact.</EmptyState>}
      {all.length > 0 && (
        <ul className="plain template-list" aria-label="Your templates and snippets">
          {all.map((t) => (
            <li key={t.id}>
              <strong>{t.name}</strong> <span className="muted small">{t.kind === 'snippet' ? `snippet${t.shortcut ? ` /${t.shortcut}` : ''}` : `template · ${t.subject || '(no subject)'}`}</span>
              {t.shared && <span className="badge badge-info">shared{t.owner ? ` by ${t.owner.name}` : ''}</span>}
              <details>
                <summary className="small">Show</summary>
                <pre className="small" style={{ whiteSpace: 'pre-wrap' }}>{htmlToPlain(t.html)}</pre>
              </details>
              {t.editable && (
                <button type="button" className="btn btn-small" onClick={() => void remove(t)} aria-label={`Delete ${t.name}`}>
                  Delete
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={save} aria-label="New template or snippet" className="template-form">
        <fieldset style={{ border: 0, padding: 0, display: 'flex', gap: 16 }}>
          <legend className="sr-only">Kind</legend>
          <label>
            <input type="radio" name="template-kind" checked={kind === 'template'} onChange={() => setKind('template')} /> Template
          </label>
          <label>
            <input type="radio" name="template-kind" checked={kind === 'snippet'} onChange={() => setKind('snippet')} /> Snippet
          </label>
        </fieldset>
        <label htmlFor="template-name">Name</label>
        <input id="template-name" type="text" value={name} onChange={(e) => setName(e.target.value)} maxLength={120} required />
        {kind === 'template' ? (
          <>
            <label htmlFor="template-subject">Subject</label>
            <input id="template-subject" type="text" value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={2000} />
          </>
        ) : (
          <>
            <label htmlFor="template-shortcut">Shortcut (optional)</label>
            <input id="template-shortcut" type="text" value={shortcut} onChange={(e) => setShortcut(e.target.value)} maxLength={30} placeholder="intro" />
          </>
        )}
        <label htmlFor="template-body">{kind === 'template' ? 'Body' : 'Text'}</label>
        <textarea id="template-body" rows={5} value={body} onChange={(e) => setBody(e.target.value)} />
        {isAdmin && (
          <label>
            <input type="checkbox" checked={shared} onChange={(e) => setShared(e.target.checked)} /> Share with everyone in the account
          </label>
        )}
        {error && <Notice kind="error">{error}</Notice>}
        {saved && <Notice kind="success">{saved}</Notice>}
        <div className="form-actions">
          <button type="submit" className="btn btn-primary" disabled={busy || !name.trim()}>
            {busy ? 'Saving…' : `Save ${kind}`}
          </button>
        </div>
      </form>
    </section>
  );
}
