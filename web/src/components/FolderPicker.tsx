/**
 * Settings → Email, per personal mailbox: which folders (Gmail labels) are synced. INBOX always is; spam,
 * trash and drafts never are (shown, not choosable); everything else is the owner's choice, so private
 * folders stay out of the CRM. The list comes from the mail server when the section is opened.
 */
import { useEffect, useState } from 'react';
import { errorText } from '../api/client.js';
import { chooseFolders, listFolders, type ConnectionFolder, type ConnectionFolders } from '../api/connections.js';
import { Notice, Spinner } from './ui.js';

const NEVER: Record<string, string> = { spam: 'spam, never synced', trash: 'deleted mail, never synced', drafts: 'drafts, never synced' };

function isInbox(f: ConnectionFolder): boolean {
  return /^inbox$/i.test(f.path);
}

export function FolderPicker({ connectionId, address, onSaved }: { connectionId: string; address: string; onSaved?: (selected: string[]) => void }) {
  const [open, setOpen] = useState(false);
  const [data, setData] = useState<ConnectionFolders | null>(null);
  const [chosen, setChosen] = useState<string[]>([]);
  const [loading, setLoading] = useState(false);
  const [saving, setSaving] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  useEffect(() => {
    if (!open || data) return;
    let live = true;
    setLoading(true);
    setError(null);
    listFolders(connectionId).then(
      (d) => {
        if (!live) return;
        setData(d);
        setChosen(d.selected);
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
  }, [open, data, connectionId]);

  const toggle = (path: string, on: boolean) => {
    setSaved(false);
    setChosen((list) => (on ? [...list.filter((p) => p !== path), path] : list.filter((p) => p !== path)));
  };
  const save = async () => {
    setSaving(true);
    setError(null);
    setSaved(false);
    try {
      const d = await chooseFolders(connectionId, chosen);
      setData(d);
      setChosen(d.selected);
      setSaved(true);
      onSaved?.(d.selected);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setSaving(false);
    }
  };
  const changed = data ? [...chosen].sort().join('\n') !== [...data.selected].sort().join('\n') : false;
  const legendId = `folders-${connectionId}`;

  return (
    <details className="folder-picker" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>Folders synced</summary>
      {loading && <Spinner label={`Reading the folders of ${address}…`} />}
      {data && (
        <fieldset className="stack" aria-labelledby={legendId}>
          <legend id={legendId}>Folders of {address} that Mailroom syncs</legend>
          <p className="muted small">
            Only the folders you tick are read. Spam, trash and drafts never are. Mail already logged from a folder you untick stays logged; the never-log
            lists apply to every folder.
          </p>
          <ul className="folder-list">
            {data.folders
              .filter((f) => f.selectable)
              .map((f) => {
                const inbox = isInbox(f);
                const never = f.neverSynced ? NEVER[f.neverSynced] : null;
                return (
                  <li key={f.path}>
                    <label className="switch">
                      <input type="checkbox" checked={inbox || chosen.includes(f.path)} disabled={inbox || Boolean(never) || saving} onChange={(e) => toggle(f.path, e.target.checked)} />
                      <span>
                        {f.path}
                        {inbox && <span className="muted small"> (always synced)</span>}
                        {never && <span className="muted small"> ({never})</span>}
                      </span>
                    </label>
                  </li>
                );
              })}
          </ul>
          <div className="row">
            <button type="button" className="btn btn-primary" disabled={!changed || saving} onClick={() => void save()}>
              {saving ? 'Saving…' : 'Save folders'}
            </button>
          </div>
        </fieldset>
      )}
      {saved && <Notice kind="success">Saved. {data ? `${data.selected.length} folders are synced from now on.` : ''}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
    </details>
  );
}
