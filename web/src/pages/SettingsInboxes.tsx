import { ForwardingCheck } from '../components/ForwardingCheck.js';
import { useEffect, useId, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import { disconnectEmail, listConnections, updateConnection } from '../api/connections.js';
import { createInbox, deleteInbox, listInboxes, renameInbox } from '../api/inboxes.js';
import type { Connection, Inbox, SenderNameMode } from '../api/types.js';
import { ConnectForm } from '../components/ConnectForm.js';
import { ListeningBadge, StateBadge, SyncProgress, plainError } from '../components/ConnectionStatus.js';
import { ConfirmDialog, CopyableValue, EmptyState, Field, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { InboxSection, MembersSection, RoutingSection, SenderListsSection, SlaSection, type Directory } from '../components/InboxSettings.js';
import { listTeams } from '../api/teams.js';
import { listUsers } from '../api/users.js';
import { SENDER_NAME_MODES, fromLine, senderDisplayName } from '../lib/senderName.js';
import { useSession } from '../session.js';

function SenderSettings({ c, inboxName, onSaved }: { c: Connection; inboxName: string; onSaved: (c: Connection) => void }) {
  const { session } = useSession();
  const id = useId().replace(/:/g, '');
  const [mode, setMode] = useState<SenderNameMode>((c.senderName?.mode as SenderNameMode) ?? 'agent_at_inbox');
  const [custom, setCustom] = useState(c.senderName?.custom ?? '');
  const [signature, setSignature] = useState(c.signature ?? '');
  const [state, setState] = useState<{ busy: boolean; error: string | null; saved: boolean }>({ busy: false, error: null, saved: false });
  const ctx = { agentName: session.user.name, agentEmail: session.user.email, inboxName, companyName: session.account.name, custom };
  const preview = fromLine(senderDisplayName(mode, ctx), c.address);

  const save = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true, error: null, saved: false });
    try {
      const updated = await updateConnection(c.id, { senderName: { mode, custom: mode === 'custom' ? custom : null }, signature: signature.trim() ? signature : null });
      onSaved(updated);
      setState({ busy: false, error: null, saved: true });
    } catch (err) {
      setState({ busy: false, error: errorText(err), saved: false });
    }
  };

  return (
    <form className="sender-settings" onSubmit={save} aria-label={`Sender settings for ${c.address}`}>
      <fieldset>
        <legend>Sender name on replies</legend>
        {SENDER_NAME_MODES.map((m) => (
          <label key={m.id} className="radio">
            <input type="radio" name={`${id}-mode`} value={m.id} checked={mode === m.id} onChange={() => setMode(m.id)} /> {m.label}
          </label>
        ))}
      </fieldset>
      {mode === 'custom' && (
        <Field label="Custom sender name" id={`${id}-custom`}>
          <input id={`${id}-custom`} value={custom} maxLength={200} onChange={(e) => setCustom(e.target.value)} placeholder={`${session.account.name} Support`} />
        </Field>
      )}
      <div className="from-preview" aria-live="polite">
        <span className="holder-label">Customers see</span>
        <span className="from-preview-line">
          <span className="muted">From:</span> {preview}
        </span>
        {mode === 'agent_at_inbox' && <span className="muted small">(shown with the first name of the agent who replies; yours here)</span>}
      </div>
      <Field label="Team signature" id={`${id}-signature`} hint="Added below every reply sent from this address.">
        <textarea id={`${id}-signature`} rows={4} maxLength={10000} value={signature} onChange={(e) => setSignature(e.target.value)} />
      </Field>
      {state.error && <Notice kind="error">{state.error}</Notice>}
      {state.saved && <Notice kind="success">Saved.</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.busy}>
          {state.busy ? 'Saving…' : 'Save sender settings'}
        </button>
      </div>
    </form>
  );
}

function TeamConnection({ c, inboxName, onChanged, onRemoved }: { c: Connection; inboxName: string; onChanged: (c: Connection) => void; onRemoved: (id: string) => void }) {
  const [open, setOpen] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const err = plainError(c);
  const disconnect = async () => {
    setBusy(true);
    try {
      await disconnectEmail(c.id);
      onRemoved(c.id);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
      setConfirming(false);
    }
  };
  return (
    <li className="team-connection">
      <div className="connection-head">
        <div>
          <strong className="connection-address">{c.address}</strong>
          <div className="muted small">{c.transport === 'forwarding' ? 'By forwarding' : `IMAP ${c.imap?.host ?? ''}`}</div>
        </div>
        <StateBadge state={c.state} />
      </div>
      <ListeningBadge c={c} />
      <SyncProgress c={c} />
      {err && (c.state === 'error' || c.state === 'auth_failed' || c.state === 'needs_reauth') && <Notice kind="error">{err}</Notice>}
      {c.transport === 'forwarding' && c.forwardingAddress && (
        <div className="forwarding">
          <p>
            Set up your mail server to forward mail sent to <strong>{c.address}</strong> to:
          </p>
          <CopyableValue value={c.forwardingAddress} label="Forwarding address" />
          <ForwardingCheck connection={c} />
        </div>
      )}
      <div className="row-actions">
        <button type="button" className="btn btn-small" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
          {open ? 'Hide sender settings' : 'Sender name and signature'}
        </button>
        <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setConfirming(true)}>
          Disconnect
        </button>
      </div>
      {open && <SenderSettings c={c} inboxName={inboxName} onSaved={onChanged} />}
      {error && <Notice kind="error">{error}</Notice>}
      <ConfirmDialog open={confirming} title={`Disconnect ${c.address}?`} confirmLabel="Disconnect" danger busy={busy} onConfirm={disconnect} onCancel={() => setConfirming(false)}>
        <p>
          New mail to this address stops arriving in {inboxName}, and replies can no longer be sent from it. Conversations already in the inbox
          stay.
        </p>
      </ConfirmDialog>
    </li>
  );
}

function InboxCard({ inbox, connections, directory, onConnectionsChanged }: { inbox: Inbox; connections: Connection[]; directory: Directory; onConnectionsChanged: () => void }) {
  const [connecting, setConnecting] = useState(false);
  const [justConnected, setJustConnected] = useState<Connection | null>(null);
  const [renaming, setRenaming] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const live = connections.filter((c) => c.state !== 'disconnected');
  const saveName = async (e: FormEvent) => {
    e.preventDefault();
    if (renaming === null) return;
    setError(null);
    try {
      await renameInbox(inbox.id, renaming.trim());
      setRenaming(null);
      onConnectionsChanged();
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await deleteInbox(inbox.id);
      setDeleting(false);
      onConnectionsChanged();
    } catch (err) {
      setError(errorText(err));
      setDeleting(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card inbox-card" aria-labelledby={`inbox-${inbox.id}`}>
      <div className="connection-head">
        <div>
          {renaming === null ? (
            <h2 id={`inbox-${inbox.id}`}>{inbox.name}</h2>
          ) : (
            <form className="rename-form" onSubmit={saveName}>
              <label htmlFor={`rename-${inbox.id}`} className="sr-only">
                New name for {inbox.name}
              </label>
              <input id={`rename-${inbox.id}`} required maxLength={120} value={renaming} onChange={(e) => setRenaming(e.target.value)} autoFocus />
              <button type="submit" className="btn btn-small btn-primary">
                Save
              </button>
              <button type="button" className="btn btn-small" onClick={() => setRenaming(null)}>
                Cancel
              </button>
              <h2 id={`inbox-${inbox.id}`} className="sr-only">
                {inbox.name}
              </h2>
            </form>
          )}
          <div className="muted small">{inbox.access === 'everyone' ? 'Everyone in the account can see it' : 'Only its members can see it'}</div>
        </div>
        <div className="row-actions">
          {!connecting && (
            <button type="button" className="btn btn-primary" onClick={() => setConnecting(true)}>
              Connect team email
            </button>
          )}
          {renaming === null && (
            <button type="button" className="btn" onClick={() => setRenaming(inbox.name)} aria-label={`Rename ${inbox.name}`}>
              Rename
            </button>
          )}
          <button type="button" className="btn btn-danger-outline" onClick={() => setDeleting(true)} aria-label={`Delete ${inbox.name}`}>
            Delete
          </button>
        </div>
      </div>
      {error && <Notice kind="error">{error}</Notice>}
      <ConfirmDialog open={deleting} title={`Delete the inbox ${inbox.name}?`} confirmLabel="Delete inbox" danger busy={busy} onConfirm={remove} onCancel={() => setDeleting(false)}>
        <p>
          {live.length > 0
            ? `Its team email (${live.map((c) => c.address).join(', ')}) is disconnected first, so new mail to it stops arriving. `
            : ''}
          Everything already logged on contacts' timelines stays.
        </p>
      </ConfirmDialog>
      {justConnected?.forwardingAddress && (
        <Notice kind="success" title={`${justConnected.address} is connected`}>
          Now forward its mail to the address shown below.
        </Notice>
      )}
      {connecting && (
        <div className="inset">
          <h3>Connect team email to {inbox.name}</h3>
          <ConnectForm
            type="team"
            inboxId={inbox.id}
            allowForwarding
            onConnected={(c) => {
              setConnecting(false);
              setJustConnected(c);
              onConnectionsChanged();
            }}
            onCancel={() => setConnecting(false)}
          />
        </div>
      )}
      {live.length === 0 && !connecting ? (
        <p className="muted">No team email yet. Connect an address such as support@ so its mail arrives in this inbox.</p>
      ) : (
        <ul className="team-connections">
          {live.map((c) => (
            <TeamConnection key={c.id} c={c} inboxName={inbox.name} onChanged={onConnectionsChanged} onRemoved={onConnectionsChanged} />
          ))}
        </ul>
      )}
      <InboxSection title="Members and access" summary={inbox.access === 'everyone' ? 'everyone' : 'members only'}>
        {() => <MembersSection inbox={inbox} directory={directory} onAccessChanged={onConnectionsChanged} />}
      </InboxSection>
      <InboxSection title="Routing" summary={live.length ? `${live.length} team address${live.length > 1 ? 'es' : ''}` : 'no team address yet'}>
        {() => <RoutingSection inbox={inbox} directory={directory} />}
      </InboxSection>
      <InboxSection title="Allow and deny lists">{() => <SenderListsSection inbox={inbox} />}</InboxSection>
      <InboxSection title="Service-level targets (SLA)">{() => <SlaSection inbox={inbox} />}</InboxSection>
    </li>
  );
}

export function SettingsInboxesPage() {
  const inboxes = useLoad(listInboxes, []);
  const team = useLoad(() => listConnections({ type: 'team' }), []);
  const people = useLoad(async (): Promise<Directory> => {
    const [users, teams] = await Promise.all([listUsers('active'), listTeams()]);
    return { users, teams };
  }, []);
  const directory: Directory = people.data ?? { users: [], teams: [] };
  const [name, setName] = useState('');
  const [access, setAccess] = useState<'everyone' | 'restricted'>('everyone');
  const [creating, setCreating] = useState<{ busy: boolean; error: string | null }>({ busy: false, error: null });
  // While a team address is connecting or importing, refresh every few seconds for its progress.
  const busy = (team.data ?? []).some((c) => c.state === 'syncing');
  const reloadTeam = team.reload;
  useEffect(() => {
    if (!busy) return;
    const t = window.setInterval(reloadTeam, 3000);
    return () => window.clearInterval(t);
  }, [busy, reloadTeam]);

  const create = async (e: FormEvent) => {
    e.preventDefault();
    setCreating({ busy: true, error: null });
    try {
      await createInbox(name.trim(), access);
      setName('');
      inboxes.reload();
      setCreating({ busy: false, error: null });
    } catch (err) {
      setCreating({ busy: false, error: errorText(err) });
    }
  };

  return (
    <section className="page">
      <PageTitle>Inboxes</PageTitle>
      <p className="lead">A conversations inbox collects the mail of one or more team addresses (support@, sales@) so a whole team can answer it.</p>
      <form className="card inline-form" onSubmit={create} aria-label="Create an inbox">
        <Field label="New inbox name" id="new-inbox-name">
          <input id="new-inbox-name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="Support" />
        </Field>
        <Field label="Who can see it" id="new-inbox-access">
          <select id="new-inbox-access" value={access} onChange={(e) => setAccess(e.target.value as 'everyone' | 'restricted')}>
            <option value="everyone">Everyone</option>
            <option value="restricted">Only members</option>
          </select>
        </Field>
        <button type="submit" className="btn btn-primary" disabled={creating.busy}>
          {creating.busy ? 'Creating…' : 'Create inbox'}
        </button>
      </form>
      {creating.error && <Notice kind="error">{creating.error}</Notice>}
      {(inboxes.loading && !inboxes.data) || (team.loading && !team.data) ? <Spinner /> : null}
      {inboxes.error ? <Notice kind="error">{errorText(inboxes.error)}</Notice> : null}
      {team.error ? <Notice kind="error">{errorText(team.error)}</Notice> : null}
      {inboxes.data && inboxes.data.length === 0 && <EmptyState title="No inboxes yet">Create one above, then connect a team email to it.</EmptyState>}
      <ul className="inbox-list">
        {(inboxes.data ?? []).map((inbox) => (
          <InboxCard
            key={inbox.id}
            inbox={inbox}
            connections={(team.data ?? []).filter((c) => c.inboxId === inbox.id)}
            directory={directory}
            onConnectionsChanged={() => {
              team.reload();
              inboxes.reload();
            }}
          />
        ))}
      </ul>
    </section>
  );
}
