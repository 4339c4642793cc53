import { useEffect, useRef, useState, type FormEvent } from 'react';
import { createTeam, deleteTeam, listTeams, renameTeam, type Team, type TeamDeletion } from '../api/teams.js';
import { errorText } from '../api/client.js';
import { changeUserState, inviteUser, listUsers, updateUser, type UserPatch, type UserStateAction } from '../api/users.js';
import type { Role, Seat, User, UserState } from '../api/types.js';
import { Badge, ConfirmDialog, CopyableValue, EmptyState, Field, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { ROLE_LABEL, SEAT_LABEL, STATE_LABEL } from '../lib/format.js';
import { useSession } from '../session.js';

const ROLES: Role[] = ['member', 'admin', 'super_admin'];
const SEATS: Seat[] = ['paid', 'free', 'view_only'];

function InviteForm({ teams, onInvited }: { teams: Team[]; onInvited: (u: User, password?: string) => void }) {
  const [teamIds, setTeamIds] = useState<string[]>([]);
  const { session } = useSession();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('member');
  const [seat, setSeat] = useState<Seat>('paid');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const r = await inviteUser({ name: name.trim(), email: email.trim(), role, seat, ...(teamIds.length ? { teamIds } : {}) });
      setName('');
      setEmail('');
      setTeamIds([]);
      onInvited(r.user, r.generatedPassword);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card invite-form" onSubmit={submit} aria-labelledby="invite-title">
      <h2 id="invite-title">Add a user</h2>
      <div className="grid-4">
        <Field label="Name" id="invite-name">
          <input id="invite-name" required maxLength={200} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" />
        </Field>
        <Field label="Email" id="invite-email">
          <input id="invite-email" type="email" required value={email} onChange={(e) => setEmail(e.target.value)} autoComplete="off" />
        </Field>
        <Field label="Role" id="invite-role">
          <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)}>
            {ROLES.filter((r) => r !== 'super_admin' || session.user.role === 'super_admin').map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </Field>
        <Field label="Seat" id="invite-seat">
          <select id="invite-seat" value={seat} onChange={(e) => setSeat(e.target.value as Seat)}>
            {SEATS.map((s) => (
              <option key={s} value={s}>
                {SEAT_LABEL[s]}
              </option>
            ))}
          </select>
        </Field>
      </div>
      {teams.length > 0 && (
        <fieldset className="radio-row">
          <legend>Teams (optional)</legend>
          {teams.map((t) => (
            <label key={t.id}>
              <input type="checkbox" checked={teamIds.includes(t.id)} onChange={(e) => setTeamIds((x) => (e.target.checked ? [...x, t.id] : x.filter((y) => y !== t.id)))} /> {t.name}
            </label>
          ))}
        </fieldset>
      )}
      {error && <Notice kind="error">{error}</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add user'}
        </button>
      </div>
    </form>
  );
}

const ACTION_WORDS: Record<UserStateAction, { label: string; title: (n: string) => string; body: string; danger: boolean }> = {
  deactivate: {
    label: 'Deactivate',
    title: (n) => `Deactivate ${n}?`,
    body: 'They can no longer sign in and their open conversations become unassigned. Everything they logged stays, and you can restore them later.',
    danger: true,
  },
  remove: {
    label: 'Remove',
    title: (n) => `Remove ${n}?`,
    body: 'They leave the account and free their seat. Everything they logged stays, and you can restore them later.',
    danger: true,
  },
  restore: { label: 'Restore', title: (n) => `Restore ${n}?`, body: 'They can sign in again with their previous role and seat.', danger: false },
};

const PERMISSIONS: Array<{ key: keyof User['permissions']; label: string; hint: string }> = [
  { key: 'personalEmail', label: 'Personal email', hint: 'Connect their own mailbox and send from contacts.' },
  { key: 'accountAccess', label: 'Account access', hint: 'Manage inboxes, team email and routing.' },
  { key: 'availabilityManagement', label: 'Availability management', hint: 'Set other people available or away.' },
];

/** Permissions, teams and availability of one user; each change is saved at once. */
function UserEditPanel({ u, teams, onPatch }: { u: User; teams: Team[]; onPatch: (p: UserPatch) => void }) {
  // Not disabled while saving: that would take the keyboard focus away from the control just changed.
  const disabled = u.state !== 'active';
  return (
    <div className="user-edit-panel">
      <fieldset disabled={disabled}>
        <legend>Permissions</legend>
        {PERMISSIONS.map((p) => (
          <label key={p.key} className="checkbox radio-hinted">
            <input type="checkbox" checked={u.permissions[p.key]} onChange={(e) => onPatch({ permissions: { [p.key]: e.target.checked } })} />
            <span>
              {p.label}
              <span className="hint">{p.hint}</span>
            </span>
          </label>
        ))}
      </fieldset>
      <fieldset disabled={disabled}>
        <legend>Teams</legend>
        {teams.length === 0 && <p className="muted small">No teams yet. Create one above the list.</p>}
        {teams.map((t) => (
          <label key={t.id} className="checkbox">
            <input
              type="checkbox"
              checked={u.teamIds.includes(t.id)}
              onChange={(e) => onPatch({ teamIds: e.target.checked ? [...u.teamIds, t.id] : u.teamIds.filter((x) => x !== t.id) })}
            />
            <span>{t.name}</span>
          </label>
        ))}
        {u.teamIds.length > 1 && (
          <div className="field">
            <label htmlFor={`primary-${u.id}`}>Primary team</label>
            <select id={`primary-${u.id}`} value={u.primaryTeamId ?? ''} onChange={(e) => onPatch({ primaryTeamId: e.target.value })}>
              {teams
                .filter((t) => u.teamIds.includes(t.id))
                .map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                  </option>
                ))}
            </select>
          </div>
        )}
      </fieldset>
      <fieldset disabled={disabled}>
        <legend>Availability</legend>
        <label className="radio">
          <input type="radio" name={`availability-${u.id}`} checked={u.availability === 'available'} onChange={() => onPatch({ availability: 'available' })} /> Available
        </label>
        <label className="radio">
          <input type="radio" name={`availability-${u.id}`} checked={u.availability !== 'available'} onChange={() => onPatch({ availability: 'away' })} /> Away (routing skips them)
        </label>
      </fieldset>
    </div>
  );
}

/** One team of the list: its name and members, renamed in place, deleted after a confirmation. */
function TeamItem({ team, onChanged, onDeleted }: { team: Team; onChanged: () => void; onDeleted: (d: TeamDeletion) => void }) {
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(team.name);
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const inputId = `team-name-${team.id}`;
  const input = useRef<HTMLInputElement>(null);
  // The user asked to rename: the name field takes the focus.
  useEffect(() => {
    if (renaming) input.current?.focus();
  }, [renaming]);
  const members = `${team.memberIds.length} member${team.memberIds.length === 1 ? '' : 's'}`;
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await renameTeam(team.id, name.trim());
      setRenaming(false);
      onChanged();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    setBusy(true);
    setError(null);
    try {
      const d = await deleteTeam(team.id);
      setConfirming(false);
      onDeleted(d);
    } catch (err) {
      setConfirming(false);
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="team-item">
      {renaming ? (
        <form className="inline-form" onSubmit={save} aria-label={`Rename team ${team.name}`}>
          <Field label={`New name for ${team.name}`} id={inputId}>
            <input id={inputId} required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} autoComplete="off" ref={input} />
          </Field>
          <button type="submit" className="btn btn-small btn-primary" disabled={busy || !name.trim()}>
            {busy ? 'Saving…' : 'Save name'}
          </button>
          <button
            type="button"
            className="btn btn-small"
            onClick={() => {
              setRenaming(false);
              setName(team.name);
              setError(null);
            }}
          >
            Cancel
          </button>
        </form>
      ) : (
        <>
          <span className="team-name">
            <strong>{team.name}</strong> <span className="muted small">({members})</span>
          </span>
          <span className="actions">
            <button type="button" className="btn btn-small" onClick={() => setRenaming(true)} aria-label={`Rename ${team.name}`}>
              Rename
            </button>
            <button type="button" className="btn btn-small btn-danger-outline" onClick={() => setConfirming(true)} aria-label={`Delete ${team.name}`}>
              Delete
            </button>
          </span>
        </>
      )}
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
      <ConfirmDialog open={confirming} title={`Delete the team ${team.name}?`} confirmLabel="Delete team" danger busy={busy} onConfirm={() => void remove()} onCancel={() => setConfirming(false)}>
        <p>
          Its {members} leave it and are told; they keep their accounts and everything they logged. Inboxes that list it drop it (in a restricted inbox, conversations of people who lose access
          become unassigned), and routing rules that name it route to the rest of their people, or stop routing when it was all they had.
        </p>
      </ConfirmDialog>
    </li>
  );
}

function TeamsBar({ teams, onCreated, onDeleted }: { teams: Team[]; onCreated: () => void; onDeleted: (d: TeamDeletion) => void }) {
  const [name, setName] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await createTeam(name.trim());
      setName('');
      onCreated();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card teams-card" aria-labelledby="teams-title">
      <h2 id="teams-title">Teams</h2>
      {teams.length ? (
        <ul className="team-list" aria-label="Teams">
          {teams.map((t) => (
            <TeamItem key={`${t.id}-${t.name}`} team={t} onChanged={onCreated} onDeleted={onDeleted} />
          ))}
        </ul>
      ) : (
        <p className="muted small">No teams yet. Teams group people for inboxes and routing.</p>
      )}
      <form className="inline-form" onSubmit={submit} aria-label="Create a team">
        <Field label="New team" id="new-team-name">
          <input id="new-team-name" required maxLength={120} value={name} onChange={(e) => setName(e.target.value)} placeholder="Support" autoComplete="off" />
        </Field>
        <button type="submit" className="btn" disabled={busy || !name.trim()}>
          {busy ? 'Creating…' : 'Create team'}
        </button>
        {error && <Notice kind="error">{error}</Notice>}
      </form>
    </section>
  );
}

function UserRow({ u, teams, onChanged }: { u: User; teams: Team[]; onChanged: (u: User) => void }) {
  const [editing, setEditing] = useState(false);
  const { session } = useSession();
  const [pending, setPending] = useState<UserStateAction | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const me = u.id === session.user.id;

  // A change shows at once and settles (or is put back) when the server answers.
  const [optimistic, setOptimistic] = useState<User | null>(null);
  const patch = async (p: UserPatch) => {
    setError(null);
    const { permissions, ...rest } = p;
    setOptimistic({ ...u, ...rest, permissions: { ...u.permissions, ...permissions } } as User);
    try {
      onChanged(await updateUser(u.id, p));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setOptimistic(null);
    }
  };
  const shown = optimistic ?? u;
  const run = async () => {
    if (!pending) return;
    setBusy(true);
    try {
      onChanged(await changeUserState(u.id, pending));
      setPending(null);
    } catch (e) {
      setError(errorText(e));
      setPending(null);
    } finally {
      setBusy(false);
    }
  };
  const actions: UserStateAction[] = u.state === 'active' ? ['deactivate', 'remove'] : u.state === 'deactivated' ? ['restore', 'remove'] : ['restore'];
  return (
    <>
    <tr>
      <td data-label="User">
        <div className="user-cell">
          <strong>{u.name}</strong>
          {me && <Badge tone="info">You</Badge>}
          <span className="muted small">{u.email}</span>
        </div>
      </td>
      <td data-label="Role">
        <select aria-label={`Role of ${u.name}`} value={shown.role} disabled={me || u.state !== 'active'} onChange={(e) => patch({ role: e.target.value as Role })}>
          {ROLES.filter((r) => r !== 'super_admin' || session.user.role === 'super_admin' || u.role === 'super_admin').map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </select>
      </td>
      <td data-label="Seat">
        <select aria-label={`Seat of ${u.name}`} value={shown.seat} disabled={u.state !== 'active'} onChange={(e) => patch({ seat: e.target.value as Seat })}>
          {SEATS.map((s) => (
            <option key={s} value={s}>
              {SEAT_LABEL[s]}
            </option>
          ))}
        </select>
      </td>
      <td data-label="State">
        <Badge tone={u.state === 'active' ? 'good' : u.state === 'deactivated' ? 'warn' : 'bad'}>{STATE_LABEL[u.state] ?? u.state}</Badge>
      </td>
      <td data-label="Actions" className="actions-cell">
        <div className="actions">
        <button
          type="button"
          className="btn btn-small"
          aria-expanded={editing}
          aria-controls={editing ? `edit-${u.id}` : undefined}
          onClick={() => setEditing((x) => !x)}
          aria-label={`${editing ? 'Close permissions, teams' : 'Permissions, teams'} of ${u.name}`}
        >
          {editing ? 'Close' : 'Permissions, teams'}
        </button>
        {!me &&
          actions.map((a) => (
            <button key={a} type="button" className={`btn btn-small ${ACTION_WORDS[a].danger ? 'btn-danger-outline' : ''}`} onClick={() => setPending(a)} aria-label={`${ACTION_WORDS[a].label} ${u.name}`}>
              {ACTION_WORDS[a].label}
            </button>
          ))}
        </div>
        {error && (
          <div className="field-error" role="alert">
            {error}
          </div>
        )}
        <ConfirmDialog
          open={pending !== null}
          title={pending ? ACTION_WORDS[pending].title(u.name) : ''}
          confirmLabel={pending ? ACTION_WORDS[pending].label : ''}
          danger={pending ? ACTION_WORDS[pending].danger : false}
          busy={busy}
          onConfirm={run}
          onCancel={() => setPending(null)}
        >
          <p>{pending ? ACTION_WORDS[pending].body : ''}</p>
        </ConfirmDialog>
      </td>
    </tr>
    {editing && (
      <tr className="user-edit" id={`edit-${u.id}`}>
        <td colSpan={5}>
          {u.state !== 'active' && <p className="muted small">Restore this user to change their permissions and teams.</p>}
          <UserEditPanel u={shown} teams={teams} onPatch={(p) => void patch(p)} />
        </td>
      </tr>
    )}
    </>
  );
}

export function SettingsUsersPage() {
  const [filter, setFilter] = useState<UserState | ''>('');
  const { data, error, loading, setData, reload } = useLoad(() => listUsers(filter || undefined), [filter]);
  const [invited, setInvited] = useState<{ user: User; password?: string } | null>(null);
  const teams = useLoad(listTeams, []);
  const [deleted, setDeleted] = useState<TeamDeletion | null>(null);

  return (
    <section className="page">
      <PageTitle>Users</PageTitle>
      <InviteForm
        teams={teams.data ?? []}
        onInvited={(user, password) => {
          setInvited({ user, password });
          reload();
          if (user.teamIds.length) teams.reload();
        }}
      />
      <TeamsBar
        teams={teams.data ?? []}
        onCreated={teams.reload}
        onDeleted={(d) => {
          setDeleted(d);
          teams.reload();
          reload();
        }}
      />
      {deleted && (
        <Notice kind="success" title={`The team ${deleted.name} was deleted`}>
          <p>
            {deleted.memberIds.length
              ? `Its ${deleted.memberIds.length} member${deleted.memberIds.length === 1 ? ' was' : 's were'} told.`
              : 'It had no members.'}
            {deleted.adjustments.length ? ' Also changed:' : ' Nothing else named it.'}
          </p>
          {deleted.adjustments.length > 0 && (
            <ul>
              {deleted.adjustments.map((a) => (
                <li key={`${a.kind}-${a.connectionId ?? a.inboxId}`}>{a.summary}</li>
              ))}
            </ul>
          )}
          <button type="button" className="btn btn-small" onClick={() => setDeleted(null)}>
            Done
          </button>
        </Notice>
      )}
      {invited && (
        <Notice kind="success" title={`${invited.user.name} was added`}>
          {invited.password ? (
            <>
              <p>Their password is shown only this once. Share it with them privately; they can change it after signing in.</p>
              <CopyableValue value={invited.password} label={`Password for ${invited.user.email}`} />
            </>
          ) : (
            <p>They can sign in with the password that was set.</p>
          )}
          <button type="button" className="btn btn-small" onClick={() => setInvited(null)}>
            Done
          </button>
        </Notice>
      )}
      <div className="toolbar">
        <label htmlFor="user-filter">Show</label>
        <select id="user-filter" value={filter} onChange={(e) => setFilter(e.target.value as UserState | '')}>
          <option value="">Everyone</option>
          <option value="active">Active</option>
          <option value="deactivated">Deactivated</option>
          <option value="removed">Removed</option>
        </select>
      </div>
      {loading && !data && <Spinner />}
      {error ? <Notice kind="error">{errorText(error)}</Notice> : null}
      {data && data.length === 0 && (
        <EmptyState title={filter ? `No ${STATE_LABEL[filter]?.toLowerCase() ?? filter} users` : 'No users yet'}>
          <p>{filter ? 'Choose “Everyone” to see the others.' : 'Add someone with the form above.'}</p>
        </EmptyState>
      )}
      {data && data.length > 0 && (
        <table className="table responsive-table">
          <caption className="sr-only">Users of the account</caption>
          <thead>
            <tr>
              <th scope="col">User</th>
              <th scope="col">Role</th>
              <th scope="col">Seat</th>
              <th scope="col">State</th>
              <th scope="col">
                <span className="sr-only">Actions</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {data.map((u) => (
              <UserRow
                key={u.id}
                u={u}
                teams={teams.data ?? []}
                onChanged={(n) => {
                  setData((list = []) => list.map((x) => (x.id === n.id ? n : x)));
                  if (n.teamIds.join() !== u.teamIds.join()) teams.reload();
                }}
              />
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
