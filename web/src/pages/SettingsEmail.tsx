import { useEffect, useState } from 'react';
import { errorText } from '../api/client.js';
import { disconnectEmail, listConnections, updateConnection, updateCredentials, type ConnectionPatch } from '../api/connections.js';
import type { Connection } from '../api/types.js';
import { ConnectForm } from '../components/ConnectForm.js';
import { OAuthButtons, OAuthCallback, PendingSignIns } from '../components/OAuthConnect.js';
import { EmailPreferencesSections } from '../components/EmailPreferences.js';
import { NotificationEmailSetting } from '../components/NotificationEmailSetting.js';
import { UndoSendSetting } from '../components/UndoSendSetting.js';
import { FolderPicker } from '../components/FolderPicker.js';
import { TemplatesSettings } from '../components/TemplatesSettings.js';
import { isAdmin } from '../lib/format.js';
import { ListeningBadge, StateBadge, SyncProgress, fixItLabel, plainError } from '../components/ConnectionStatus.js';
import { ConfirmDialog, EmptyState, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { formatDateTime } from '../lib/format.js';
import { useSession } from '../session.js';

function ConnectionCard({
  c,
  onChanged,
  onRemoved,
  onReplaced,
}: {
  c: Connection;
  onChanged: (c: Connection) => void;
  onRemoved: (id: string) => void;
  onReplaced: () => void;
}) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [fixing, setFixing] = useState(false);
  const fix = fixItLabel(c);
  const lastError = plainError(c);

  // Flags show the new value at once and settle when the server answers.
  const [pending, setPending] = useState<Partial<Pick<Connection, 'isDefaultFrom' | 'useForMeetings'>>>({});
  const shown = { ...c, ...pending };
  const patch = async (p: Pick<ConnectionPatch, 'isDefaultFrom' | 'useForMeetings'>) => {
    setError(null);
    setPending((x) => ({ ...x, ...p }));
    try {
      onChanged(await updateConnection(c.id, p));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setPending({});
    }
  };
  const disconnect = async () => {
    setBusy(true);
    try {
      await disconnectEmail(c.id);
      setConfirming(false);
      onRemoved(c.id);
    } catch (e) {
      setError(errorText(e));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };

  return (
    <li className="card connection" aria-labelledby={`conn-${c.id}`}>
      <div className="connection-head">
        <div>
          <h3 id={`conn-${c.id}`} className="connection-address">
            {c.address}
          </h3>
          <div className="muted small">
            {c.transport === 'imap' && c.imap ? `IMAP ${c.imap.host} · SMTP ${c.smtp?.host ?? ''}` : 'Forwarding'} · connected {formatDateTime(c.createdAt)}
          </div>
        </div>
        <StateBadge state={c.state} />
      </div>
      <ListeningBadge c={c} />
      <SyncProgress c={c} />
      {lastError && (c.state === 'auth_failed' || c.state === 'needs_reauth' || c.state === 'error') && (
        <div className="connection-error" role="alert">
          <p>
            <strong>What happened:</strong> {lastError}
            {c.lastError?.at && <span className="muted small"> ({formatDateTime(c.lastError.at)})</span>}
          </p>
          {fix && !fixing && (
            <button type="button" className="btn btn-primary" onClick={() => setFixing(true)}>
              {fix}
            </button>
          )}
        </div>
      )}
      {fixing && c.oauthProvider && (
        <OAuthButtons
          type={c.type}
          connection={c}
          onConnected={(x) => {
            setFixing(false);
            onChanged(x);
          }}
        />
      )}
      {fixing && !c.oauthProvider && c.state === 'auth_failed' && (
        <form
          className="card stack"
          aria-label="Update password"
          onSubmit={async (e) => {
            e.preventDefault();
            const password = String(new FormData(e.currentTarget).get('password') ?? '');
            setBusy(true);
            setError(null);
            try {
              onChanged(await updateCredentials(c.id, password, c.transport));
              setFixing(false);
            } catch (err) {
              setError(errorText(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          <label>
            New password for {c.address}
            <input name="password" type="password" autoComplete="current-password" required autoFocus />
          </label>
          <p className="muted small">Mailroom checks it with your mail server, then picks up where it stopped: nothing is imported twice.</p>
          <div className="row">
            <button type="submit" className="btn btn-primary" disabled={busy}>
              {busy ? 'Checking…' : 'Save and resume'}
            </button>
            <button type="button" className="btn" onClick={() => setFixing(false)}>
              Cancel
            </button>
          </div>
        </form>
      )}
      {fixing && !c.oauthProvider && c.state !== 'auth_failed' && (
        <ConnectForm
          type="personal"
          initial={c}
          replaces={c}
          submitLabel="Reconnect"
          onConnected={() => {
            setFixing(false);
            onReplaced();
          }}
          onCancel={() => setFixing(false)}
        />
      )}
      <div className="connection-flags">
        <label className="switch">
          <input type="checkbox" checked={shown.isDefaultFrom} disabled={c.isDefaultFrom} onChange={(e) => patch({ isDefaultFrom: e.target.checked })} />
          <span>Default “from” address{c.isDefaultFrom ? ' (this one)' : ''}</span>
        </label>
        <label className="switch">
          <input type="checkbox" checked={shown.useForMeetings} onChange={(e) => patch({ useForMeetings: e.target.checked })} />
          <span>Use for meetings</span>
        </label>
        <button type="button" className="btn btn-danger-outline" onClick={() => setConfirming(true)}>
          Disconnect
        </button>
      </div>
      {c.transport === 'imap' && c.state !== 'disconnected' && <FolderPicker connectionId={c.id} address={c.address} onSaved={(folders) => onChanged({ ...c, folders })} />}
      {error && <Notice kind="error">{error}</Notice>}
      <ConfirmDialog
        open={confirming}
        title={`Disconnect ${c.address}?`}
        confirmLabel="Disconnect"
        danger
        busy={busy}
        onConfirm={disconnect}
        onCancel={() => setConfirming(false)}
      >
        <p>Mailroom stops reading and sending from this address. Everything already logged on contacts' timelines stays.</p>
        <p>You can connect it again later; history is not duplicated.</p>
      </ConfirmDialog>
    </li>
  );
}

export function SettingsEmailPage() {
  const { session } = useSession();
  const { data, error, loading, setData, reload } = useLoad(() => listConnections({ type: 'personal', userId: session.user.id }), [session.user.id]);
  const [adding, setAdding] = useState(false);
  const connections = (data ?? []).filter((c) => c.state !== 'disconnected');

  // While something is connecting or importing, refresh every few seconds for the progress bar.
  const busy = connections.some((c) => c.state === 'syncing');
  useEffect(() => {
    if (!busy) return;
    const t = window.setInterval(reload, 3000);
    return () => window.clearInterval(t);
  }, [busy, reload]);
  // While a mailbox waits to reconnect, look again now and then so the badge turns to live by itself.
  const waiting = connections.some((c) => c.listening === 'waiting');
  useEffect(() => {
    if (!waiting || busy) return;
    const t = window.setInterval(reload, 20_000);
    return () => window.clearInterval(t);
  }, [waiting, busy, reload]);

  const added = (c: Connection) => setData((list = []) => [...list.filter((x) => x.id !== c.id), c]);
  const changed = (c: Connection) => {
    setData((list = []) => list.map((x) => (x.id === c.id ? c : x)));
    // Flag changes (default from, meetings) move away from the other connections: refresh them too.
    reload();
  };

  const canConnect = session.user.permissions.personalEmail && session.user.seat !== 'view_only';

  return (
    <section className="page" aria-labelledby="email-settings">
      <PageTitle
        actions={
          canConnect && !adding ? (
            <button type="button" className="btn btn-primary" onClick={() => setAdding(true)}>
              Connect personal email
            </button>
          ) : undefined
        }
      >
        <span id="email-settings">Email</span>
      </PageTitle>
      <OAuthCallback onConnected={reload} />
      {canConnect && !adding && <PendingSignIns onConnected={reload} />}
      <p className="lead">
        Your personal email lets you send one-to-one email from contacts, log replies on their timelines and book meetings. Each address belongs to
        one person.
      </p>
      {!canConnect && (
        <Notice kind="info" title="You cannot connect personal email">
          {session.user.seat === 'view_only' ? 'A view-only seat cannot connect email.' : 'Your role does not include the personal email permission.'} Ask an admin
          of your account.
        </Notice>
      )}
      {adding && (
        <div className="card">
          <h2>Connect personal email</h2>
          <ConnectForm
            type="personal"
            onConnected={(c) => {
              setAdding(false);
              added(c);
            }}
            onCancel={() => setAdding(false)}
          />
        </div>
      )}
      {loading && !data && <Spinner />}
      {error ? <Notice kind="error">{errorText(error)}</Notice> : null}
      {data && connections.length === 0 && !adding && (
        <EmptyState title="No personal email connected yet">
          <p>Connect your work address to send email from Mailroom and log replies automatically.</p>
        </EmptyState>
      )}
      {connections.length > 0 && <h2 className="sr-only">Your connected addresses</h2>}
      <ul className="connection-list">
        {connections.map((c) => (
          <ConnectionCard
            key={c.id}
            c={c}
            onChanged={changed}
            onRemoved={(id) => setData((list = []) => list.filter((x) => x.id !== id))}
            onReplaced={reload}
          />
        ))}
      </ul>
      {connections.length > 1 && (
        <p className="muted small">The default “from” address is picked first when you write from a contact; you can choose another for each email.</p>
      )}
      <EmailPreferencesSections hasConnections={connections.length > 0} />
      {connections.length > 0 && <TemplatesSettings isAdmin={isAdmin(session.user.role)} />}
      <NotificationEmailSetting userId={session.user.id} />
      <UndoSendSetting userId={session.user.id} />
    </section>
  );
}
