/**
 * One-to-one email from a contact's record (issue 6): from one of your own mailboxes, to the contact (or
 * anyone), a rich body in your default font, a saved template (previewed for this contact, with the
 * tokens that have no value named before sending), snippets, your signature, log and tracking toggles
 * for this email, send now or schedule. Scheduled emails are listed with a cancel button.
 */
import { useCallback, useEffect, useMemo, useRef, useState, type FormEvent } from 'react';
import { UndoSendBar } from './UndoSend.js';
import { errorText } from '../api/client.js';
import { cancelEmail, undoEmail, listContactEmails, listTemplates, previewTemplate, sendFromContact, type EmailTemplate, type PersonalEmail, type TemplatePreview } from '../api/compose.js';
import { getPreferences } from '../api/preferences.js';
import { formatDateTime } from '../lib/format.js';
import { sanitizeEmailHtml } from '../lib/sanitizeEmail.js';
import { EmailFrame } from './EmailFrame.js';
import { isFresh } from '../api/images.js';
import { AttachmentPicker, formatBytes, toAttachments, type PickedFile } from './AttachmentPicker.js';
import { Notice, Spinner, useLoad } from './ui.js';

const list = (s: string) =>
  s
    .split(/[,;\s]+/)
    .map((x) => x.trim())
    .filter(Boolean);

/** Template HTML is ours, but shared by others: cleaned before it goes into the editor of this page. */
const cleanForEditor = (html: string) => sanitizeEmailHtml(html, { allowRemoteImages: true, proxyUrl: (u) => u }).bodyHtml;

const STATE_LABEL: Record<PersonalEmail['state'], string> = {
  scheduled: 'Scheduled',
  queued: 'Sending',
  sending: 'Sending',
  sent: 'Sent',
  failed: 'Not sent',
  cancelled: 'Cancelled',
  uncertain: 'Delivery unknown',
  unknown: 'Unknown',
};

export function ComposeEmail({ contactId, contactEmail, onSent }: { contactId: string; contactEmail: string | null; onSent: () => void }) {
  const prefs = useLoad(getPreferences, []);
  const templates = useLoad(() => listTemplates(), []);
  const emails = useLoad(() => listContactEmails(contactId), [contactId]);
  const [open, setOpen] = useState(false);
  const [from, setFrom] = useState('');
  const [to, setTo] = useState(contactEmail ?? '');
  const [cc, setCc] = useState('');
  const [bcc, setBcc] = useState('');
  const [showCc, setShowCc] = useState(false);
  const [subject, setSubject] = useState('');
  const [templateId, setTemplateId] = useState('');
  const [preview, setPreview] = useState<TemplatePreview | null>(null);
  const [log, setLog] = useState(true);
  const [trackOpens, setTrackOpens] = useState(true);
  const [trackClicks, setTrackClicks] = useState(true);
  const [signature, setSignature] = useState(true);
  const [schedule, setSchedule] = useState(false);
  const [sendAt, setSendAt] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const editor = useRef<HTMLDivElement>(null);
  const [files, setFiles] = useState<PickedFile[]>([]);
  // Undo send: the email just sent, waiting for the undo delay, with the draft to put back.
  const [undoable, setUndoable] = useState<null | { id: string; until: string; draft: { subject: string; templateId: string; html: string; files: PickedFile[]; to: string; cc: string; bcc: string } }>(null);
  const undoOver = useCallback(() => setUndoable(null), []);
  const [restoreHtml, setRestoreHtml] = useState<string | null>(null);
  useEffect(() => {
    if (restoreHtml === null || !open || !editor.current) return;
    editor.current.innerHTML = restoreHtml;
    setRestoreHtml(null);
  }, [restoreHtml, open]);

  const p = prefs.data;
  useEffect(() => {
    if (!p) return;
    setFrom((f) => f || p.fromAddresses.find((a) => a.isDefault)?.connectionId || p.fromAddresses[0]?.connectionId || '');
    setLog(p.log);
    setTrackOpens(p.trackingAvailable && p.trackOpens);
    setTrackClicks(p.trackingAvailable && p.trackClicks);
  }, [p]);
  useEffect(() => setTo(contactEmail ?? ''), [contactEmail]);

  const all = templates.data?.templates ?? [];
  const onlyTemplates = all.filter((t) => t.kind === 'template');
  const snippets = all.filter((t) => t.kind === 'snippet');
  const fontStyle = useMemo(() => (p?.font ? { fontFamily: p.font.css ?? p.font.family, fontSize: `${p.font.sizePx}px`, color: p.font.color } : {}), [p]);

  const chooseTemplate = async (id: string) => {
    setTemplateId(id);
    setPreview(null);
    const t = all.find((x) => x.id === id);
    if (!t) return;
    setSubject(t.subject);
    if (editor.current) editor.current.innerHTML = cleanForEditor(t.html);
    try {
      setPreview(await previewTemplate(id, contactId));
    } catch (e) {
      setError(errorText(e));
    }
  };

  const insertSnippet = (s: EmailTemplate) => {
    const el = editor.current;
    if (!el) return;
    el.focus();
    // execCommand keeps the caret and the undo history; the snippet is cleaned first like a template.
    if (!document.execCommand('insertHTML', false, cleanForEditor(s.html))) el.innerHTML += cleanForEditor(s.html);
  };

  const format = (command: 'bold' | 'italic' | 'insertUnorderedList' | 'createLink') => {
    editor.current?.focus();
    if (command === 'createLink') {
      const url = window.prompt('Link address (https://...)');
      if (!url || !/^(https?:|mailto:)/i.test(url.trim())) return;
      document.execCommand('createLink', false, url.trim());
      return;
    }
    document.execCommand(command);
  };

  const attachedBytes = files.reduce((a, f) => a + f.size, 0);
  const maxBytes = p?.maxAttachmentBytes ?? 20 * 1024 * 1024;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    setDone(null);
    const html = editor.current?.innerHTML ?? '';
    if (!subject.trim() && !templateId) return setError('Write a subject, or choose a template.');
    if (!editor.current?.textContent?.trim() && !templateId) return setError('Write the email, or choose a template.');
    let when: string | null = null;
    if (schedule) {
      const t = Date.parse(sendAt);
      if (!Number.isFinite(t) || t <= Date.now()) return setError('Choose a time in the future to schedule the email.');
      when = new Date(t).toISOString();
    }
    if (attachedBytes > maxBytes) return setError(`Attachments add up to ${formatBytes(attachedBytes)}; the most one email can carry is ${formatBytes(maxBytes)}. Remove some, or share a link instead.`);
    setBusy(true);
    const draft = { subject, templateId, html, files, to, cc, bcc };
    try {
      const sent = await sendFromContact(contactId, {
        undo: true,
        ...(files.length ? { attachments: toAttachments(files) } : {}),
        ...(templateId ? { templateId } : {}),
        fromConnectionId: from || undefined,
        to: list(to),
        cc: list(cc),
        bcc: list(bcc),
        subject,
        html,
        includeSignature: signature,
        log,
        ...(p?.trackingAvailable ? { trackOpens, trackClicks } : {}),
        sendAt: when,
      });
      setDone(sent.state === 'scheduled' && sent.sendAt ? `Scheduled for ${formatDateTime(sent.sendAt)}. You can cancel it until it leaves.` : sent.undoUntil ? null : 'Sent. It goes out through your mailbox and appears on the timeline.');
      if (sent.undoUntil) setUndoable({ id: sent.id, until: sent.undoUntil, draft });
      setSubject('');
      setTemplateId('');
      setPreview(null);
      if (editor.current) editor.current.innerHTML = '';
      setFiles([]);
      setSchedule(false);
      setSendAt('');
      setOpen(false);
      emails.reload();
      onSent();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  const undo = async () => {
    if (!undoable) return;
    const u = undoable;
    setError(null);
    setBusy(true);
    try {
      await undoEmail(u.id);
      // The draft comes back as it was, attachments included.
      setOpen(true);
      setSubject(u.draft.subject);
      setTemplateId(u.draft.templateId);
      setFiles(u.draft.files);
      setTo(u.draft.to);
      setCc(u.draft.cc);
      setBcc(u.draft.bcc);
      if (u.draft.cc || u.draft.bcc) setShowCc(true);
      setRestoreHtml(u.draft.html); // into the editor once it is shown again
      emails.reload();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setUndoable(null);
      setBusy(false);
    }
  };

  const cancel = async (id: string) => {
    setError(null);
    try {
      await cancelEmail(id);
      emails.reload();
      onSent();
    } catch (err) {
      setError(errorText(err));
    }
  };

  const pending = (emails.data?.emails ?? []).filter((m) => m.state === 'scheduled' || m.state === 'failed');

  if (prefs.loading && !p) return <Spinner label="Loading your email settings…" />;
  if (p && p.fromAddresses.length === 0)
    return (
      <Notice kind="info" title="Email this contact from Mailroom">
        Connect your mailbox first in <a href="/settings/email">Settings → Email</a>: email from the CRM is sent through your own mailbox, and replies are logged here.
      </Notice>
    );

  return (
    <div className="card compose-card">
      {done && <Notice kind="success">{done}</Notice>}
      {undoable && <UndoSendBar until={undoable.until} onUndo={() => void undo()} onDone={undoOver} busy={busy} />}
      {pending.length > 0 && (
        <ul className="plain scheduled-list" aria-label="Scheduled and failed emails">
          {pending.map((m) => (
            <li key={m.id} className="small">
              <strong>{STATE_LABEL[m.state]}</strong>: {m.subject || '(no subject)'}
              {m.state === 'scheduled' && m.sendAt ? ` · ${formatDateTime(m.sendAt)}` : ''}
              {m.error ? ` · ${m.error}` : ''}
              {m.state === 'scheduled' && (
                <button type="button" className="btn btn-small" style={{ marginLeft: 8 }} onClick={() => void cancel(m.id)} aria-label={`Cancel the scheduled email "${m.subject}"`}>
                  Cancel
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {!open ? (
        <button type="button" className="btn btn-primary" onClick={() => setOpen(true)}>
          Write an email
        </button>
      ) : (
        <form onSubmit={submit} aria-label="Write an email">
          <div className="compose-grid">
            <label htmlFor="compose-from">From</label>
            <select id="compose-from" value={from} onChange={(e) => setFrom(e.target.value)}>
              {p?.fromAddresses.map((a) => (
                <option key={a.connectionId} value={a.connectionId}>
                  {a.address}
                  {a.isDefault ? ' (default)' : ''}
                </option>
              ))}
            </select>
            <label htmlFor="compose-to">To</label>
            <input id="compose-to" type="text" value={to} onChange={(e) => setTo(e.target.value)} autoComplete="off" />
            {showCc ? (
              <>
                <label htmlFor="compose-cc">Cc</label>
                <input id="compose-cc" type="text" value={cc} onChange={(e) => setCc(e.target.value)} autoComplete="off" />
                <label htmlFor="compose-bcc">Bcc</label>
                <input id="compose-bcc" type="text" value={bcc} onChange={(e) => setBcc(e.target.value)} autoComplete="off" />
              </>
            ) : (
              <button type="button" className="btn btn-small btn-link" onClick={() => setShowCc(true)} style={{ gridColumn: '2' }}>
                Add Cc / Bcc
              </button>
            )}
            <label htmlFor="compose-template">Template</label>
            <select id="compose-template" value={templateId} onChange={(e) => void chooseTemplate(e.target.value)}>
              <option value="">{onlyTemplates.length ? 'None' : 'No templates yet'}</option>
              {onlyTemplates.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name}
                  {t.shared ? ' (shared)' : ''}
                </option>
              ))}
            </select>
            <label htmlFor="compose-subject">Subject</label>
            <input id="compose-subject" type="text" value={subject} onChange={(e) => setSubject(e.target.value)} maxLength={2000} />
          </div>
          {preview?.message && (
            <Notice kind="warning" title="Some fields have no value for this contact">
              {preview.message}
            </Notice>
          )}
          <div className="compose-toolbar" role="toolbar" aria-label="Formatting">
            <button type="button" className="btn btn-small" onClick={() => format('bold')} aria-label="Bold">
              <b>B</b>
            </button>
            <button type="button" className="btn btn-small" onClick={() => format('italic')} aria-label="Italic">
              <i>I</i>
            </button>
            <button type="button" className="btn btn-small" onClick={() => format('insertUnorderedList')} aria-label="Bulleted list">
              • List
            </button>
            <button type="button" className="btn btn-small" onClick={() => format('createLink')} aria-label="Link">
              Link
            </button>
            {snippets.length > 0 && (
              <select aria-label="Insert a snippet" value="" onChange={(e) => { const s = snippets.find((x) => x.id === e.target.value); if (s) insertSnippet(s); }}>
                <option value="">Insert a snippet…</option>
                {snippets.map((s) => (
                  <option key={s.id} value={s.id}>
                    {s.shortcut ? `/${s.shortcut} · ` : ''}
                    {s.name}
                  </option>
                ))}
              </select>
            )}
          </div>
          <div
            ref={editor}
            className="compose-editor"
            contentEditable
            role="textbox"
            aria-multiline="true"
            aria-label="Email body"
            suppressContentEditableWarning
            style={{ minHeight: 160, border: '1px solid var(--border, #ccc)', borderRadius: 6, padding: 8, ...fontStyle }}
          />
          <p className="muted small">
            Personalize with tokens such as {'{{ contact.firstName | "there" }}'}. {p?.font ? `Written in your default font (${p.font.family}, ${p.font.sizePx}px).` : 'Set a default font in Settings → Email.'}
          </p>
          {preview && !preview.message && templateId && (
            <details>
              <summary>Preview for this contact</summary>
              <p>
                <strong>{preview.subject}</strong>
              </p>
              <EmailFrame
                html={preview.html}
                title="Template preview"
                maxHeight={400}
                imageAccess={async () => {
                  // The preview's image token is bound to this template's preview and lasts 10 minutes.
                  const fresh = isFresh(preview.imageTokenExpiresAt) ? preview : await previewTemplate(templateId, contactId);
                  return { subject: `template:${templateId}`, token: fresh.imageToken };
                }}
              />
            </details>
          )}
          <div className="compose-attachments">
            <AttachmentPicker files={files} onChange={setFiles} label="Attach files" listLabel="Attachments" />
            {attachedBytes > maxBytes && <Notice kind="warning">Attachments add up to {formatBytes(attachedBytes)}, over the {formatBytes(maxBytes)} an email can carry.</Notice>}
          </div>
          <fieldset className="compose-options">
            <legend className="sr-only">Options for this email</legend>
            <label>
              <input type="checkbox" checked={signature} onChange={(e) => setSignature(e.target.checked)} /> Add my signature
            </label>
            <label>
              <input type="checkbox" checked={log} onChange={(e) => setLog(e.target.checked)} /> Log on the timeline
            </label>
            {p?.trackingAvailable ? (
              <>
                <label>
                  <input type="checkbox" checked={trackOpens} onChange={(e) => setTrackOpens(e.target.checked)} /> Track opens
                </label>
                <label>
                  <input type="checkbox" checked={trackClicks} onChange={(e) => setTrackClicks(e.target.checked)} /> Track clicks
                </label>
              </>
            ) : (
              <span className="muted small">Open and click tracking is not in your plan.</span>
            )}
            <label>
              <input type="checkbox" checked={schedule} onChange={(e) => setSchedule(e.target.checked)} /> Send later
            </label>
            {schedule && (
              <label>
                Send at <input type="datetime-local" aria-label="Send at" value={sendAt} onChange={(e) => setSendAt(e.target.value)} />
              </label>
            )}
          </fieldset>
          {error && <Notice kind="error">{error}</Notice>}
          <div className="form-actions">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Sending…' : schedule ? 'Schedule' : 'Send'}
            </button>
            <button type="button" className="btn" onClick={() => setOpen(false)}>
              Close
            </button>
          </div>
        </form>
      )}
    </div>
  );
}
