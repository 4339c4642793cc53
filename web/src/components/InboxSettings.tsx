import { useId, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { errorText } from '../api/client.js';
import {
  addMember,
  addSenderListEntry,
  getMembers,
  getRouting,
  getInboxSla,
  getSenderLists,
  removeMember,
  removeSenderListEntry,
  setInboxAccess,
  setRouting,
  setInboxSla,
  type InboxSla,
  type RoutingRule,
  type RoutingStrategy,
  type SenderList,
  type UsersRule,
} from '../api/inboxSettings.js';
import type { Team } from '../api/teams.js';
import type { Inbox, User } from '../api/types.js';
import { EntryList } from './EntryList.js';
import { Badge, Notice, Spinner, useLoad } from './ui.js';

export interface Directory {
  users: User[];
  teams: Team[];
}

/** A collapsible section of an inbox card; loads its content only when opened. */
export function InboxSection({ title, children, summary }: { title: string; summary?: string; children: (open: boolean) => ReactNode }) {
  const [open, setOpen] = useState(false);
  return (
    <details className="inbox-section" onToggle={(e) => setOpen((e.currentTarget as HTMLDetailsElement).open)}>
      <summary>
        {title}
        {summary && <span className="muted small"> · {summary}</span>}
      </summary>
      <div className="inbox-section-body">{open && children(open)}</div>
    </details>
  );
}

export function MembersSection({ inbox, directory, onAccessChanged }: { inbox: Inbox; directory: Directory; onAccessChanged: () => void }) {
  const id = useId().replace(/:/g, '');
  const { data, error, setData } = useLoad(() => getMembers(inbox.id), [inbox.id]);
  const [choice, setChoice] = useState('');
  const [busy, setBusy] = useState(false);
  const [actionError, setActionError] = useState<string | null>(null);
  const picker = useRef<HTMLSelectElement>(null);
  const run = async (f: () => Promise<void>) => {
    if (busy) return;
    setBusy(true);
    setActionError(null);
    try {
      await f();
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return <Spinner />;
  const listed = new Set(data.members.map((m) => m.id));
  const users = directory.users.filter((u) => u.state === 'active' && !listed.has(u.id));
  const teams = directory.teams.filter((t) => !listed.has(t.id));
  const add = (e: FormEvent) => {
    e.preventDefault();
    if (!choice) return;
    const [kind, memberId] = choice.split(':') as ['user' | 'team', string];
    void run(async () => {
      setData(await addMember(inbox.id, kind === 'user' ? { userId: memberId } : { teamId: memberId }));
      setChoice('');
      picker.current?.focus();
    });
  };
  return (
    <div className="stack">
      <div className="field">
        <label htmlFor={`${id}-access`}>Who can see this inbox</label>
        <select
          id={`${id}-access`}
          value={data.access}
          onChange={(e) => {
            const access = e.target.value as 'everyone' | 'restricted';
            void run(async () => {
              await setInboxAccess(inbox.id, access);
              setData({ ...data, access });
              onAccessChanged();
            });
          }}
        >
          <option value="everyone">Everyone in the account</option>
          <option value="restricted">Only the members listed below</option>
        </select>
        <div className="hint">{data.access === 'everyone' ? 'Everyone can read and answer. Members listed here are also the people routing rules can pick from teams.' : 'Only members see and answer its conversations; admins who are not members can view but not act.'}</div>
      </div>
      {data.members.length === 0 ? (
        <p className="muted small">No members yet. {data.access === 'restricted' ? 'Nobody but admins can see this inbox until you add someone.' : 'Add users or teams to name who works this inbox.'}</p>
      ) : (
        <ul className="entries" aria-label={`Members of ${inbox.name}`}>
          {data.members.map((m) => (
            <li key={`${m.type}:${m.id}`} className="entry">
              <span>
                <Badge tone={m.type === 'team' ? 'info' : 'neutral'}>{m.type === 'team' ? 'Team' : 'User'}</Badge> {m.name || '(unknown)'}
                {m.type === 'user' && m.state && m.state !== 'active' && <span className="muted small"> ({m.state})</span>}
              </span>
              <button type="button" className="btn btn-small" disabled={busy} aria-label={`Remove ${m.name} from ${inbox.name}`} onClick={() =>
                  void run(async () => {
                    setData(await removeMember(inbox.id, m.id));
                    // The button is gone with the member: keep the keyboard focus in the section.
                    picker.current?.focus();
                  })
                }
              >
                Remove
              </button>
            </li>
          ))}
        </ul>
      )}
      <form className="member-add" onSubmit={add} aria-label={`Add a member to ${inbox.name}`}>
        <div className="field">
          <label htmlFor={`${id}-add`}>Add a user or team</label>
          <select id={`${id}-add`} ref={picker} value={choice} onChange={(e) => setChoice(e.target.value)}>
            <option value="">Choose…</option>
            {users.length > 0 && (
              <optgroup label="Users">
                {users.map((u) => (
                  <option key={u.id} value={`user:${u.id}`}>
                    {u.name} ({u.email})
                  </option>
                ))}
              </optgroup>
            )}
            {teams.length > 0 && (
              <optgroup label="Teams">
                {teams.map((t) => (
                  <option key={t.id} value={`team:${t.id}`}>
                    {t.name} (team of {t.memberIds.length})
                  </option>
                ))}
              </optgroup>
            )}
          </select>
        </div>
        <button type="submit" className="btn" disabled={busy || !choice}>
          Add member
        </button>
      </form>
      {actionError && <Notice kind="error">{actionError}</Notice>}
    </div>
  );
}

const emptyUsersRule = (): UsersRule => ({ kind: 'users', strategy: 'round_robin', userIds: [], teamIds: [], perUserCap: null });

/** Users and teams to route to, the strategy and the cap. */
function PoolEditor({ rule, onChange, directory, legend }: { rule: UsersRule; onChange: (r: UsersRule) => void; directory: Directory; legend: string }) {
  const id = useId().replace(/:/g, '');
  const toggle = (list: 'userIds' | 'teamIds', value: string, on: boolean) =>
    onChange({ ...rule, [list]: on ? [...rule[list], value] : rule[list].filter((x) => x !== value) });
  const active = directory.users.filter((u) => u.state === 'active' || rule.userIds.includes(u.id));
  return (
    <fieldset>
      <legend>{legend}</legend>
      <div className="grid-2">
        <div className="field">
          <label htmlFor={`${id}-strategy`}>How to choose</label>
          <select id={`${id}-strategy`} value={rule.strategy} onChange={(e) => onChange({ ...rule, strategy: e.target.value as RoutingStrategy })}>
            <option value="round_robin">Round robin (take turns)</option>
            <option value="least_open">Least load (fewest open conversations)</option>
          </select>
        </div>
        <div className="field">
          <label htmlFor={`${id}-cap`}>Open conversations per person at most</label>
          <input
            id={`${id}-cap`}
            type="number"
            min={1}
            step={1}
            inputMode="numeric"
            placeholder="No cap"
            value={rule.perUserCap ?? ''}
            onChange={(e) => onChange({ ...rule, perUserCap: e.target.value === '' ? null : Math.max(1, Math.floor(Number(e.target.value))) })}
            aria-describedby={`${id}-cap-hint`}
          />
          <div className="hint" id={`${id}-cap-hint`}>
            Leave empty for no cap. People at the cap are skipped.
          </div>
        </div>
      </div>
      <div className="pick-list" role="group" aria-label="Users">
        {active.length === 0 && <p className="muted small">No active users.</p>}
        {active.map((u) => (
          <label key={u.id} className="checkbox">
            <input type="checkbox" checked={rule.userIds.includes(u.id)} onChange={(e) => toggle('userIds', u.id, e.target.checked)} />
            <span>{u.name}</span>
          </label>
        ))}
      </div>
      {directory.teams.length > 0 && (
        <div className="pick-list" role="group" aria-label="Teams">
          {directory.teams.map((t) => (
            <label key={t.id} className="checkbox">
              <input type="checkbox" checked={rule.teamIds.includes(t.id)} onChange={(e) => toggle('teamIds', t.id, e.target.checked)} />
              <span>Team {t.name}</span>
            </label>
          ))}
        </div>
      )}
      <p className="hint">Only active people with a paid seat, access to this inbox, set to available and inside their working hours are picked.</p>
    </fieldset>
  );
}

function describeRule(rule: RoutingRule, directory: Directory): string {
  const pool = (r: UsersRule) => {
    const names = [...r.userIds.map((id) => directory.users.find((u) => u.id === id)?.name ?? 'a removed user'), ...r.teamIds.map((id) => `team ${directory.teams.find((t) => t.id === id)?.name ?? '?'}`)];
    return `${r.strategy === 'round_robin' ? 'round robin' : 'least load'} among ${names.join(', ')}${r.perUserCap ? `, at most ${r.perUserCap} open each` : ''}`;
  };
  if (rule.kind === 'none') return 'New conversations stay unassigned.';
  if (rule.kind === 'users') return `Assigned by ${pool(rule)}.`;
  return `Assigned to the contact’s owner; otherwise ${rule.fallback.kind === 'none' ? 'left unassigned' : `by ${pool(rule.fallback)}`}.`;
}

function RoutingRuleEditor({ inboxId, connectionId, address, initial, directory, onSaved }: { inboxId: string; connectionId: string; address: string; initial: RoutingRule; directory: Directory; onSaved: (r: RoutingRule) => void }) {
  const id = useId().replace(/:/g, '');
  const [kind, setKind] = useState<RoutingRule['kind']>(initial.kind);
  const [pool, setPool] = useState<UsersRule>(initial.kind === 'users' ? initial : initial.kind === 'contact_owner' && initial.fallback.kind === 'users' ? initial.fallback : emptyUsersRule());
  const [fallback, setFallback] = useState<'none' | 'users'>(initial.kind === 'contact_owner' ? initial.fallback.kind : 'none');
  const [state, setState] = useState<{ busy: boolean; error: string | null; saved: boolean }>({ busy: false, error: null, saved: false });
  const rule: RoutingRule = kind === 'none' ? { kind: 'none' } : kind === 'users' ? pool : { kind: 'contact_owner', fallback: fallback === 'none' ? { kind: 'none' } : pool };
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true, error: null, saved: false });
    try {
      const r = await setRouting(inboxId, connectionId, rule);
      const saved = r.rules.find((x) => x.connectionId === connectionId)?.rule ?? rule;
      onSaved(saved);
      setState({ busy: false, error: null, saved: true });
    } catch (err) {
      setState({ busy: false, error: errorText(err), saved: false });
    }
  };
  const kinds: Array<{ id: RoutingRule['kind']; label: string }> = [
    { id: 'none', label: 'Nobody: leave new conversations unassigned' },
    { id: 'users', label: 'Specific users and teams' },
    { id: 'contact_owner', label: 'The contact’s owner' },
  ];
  return (
    <form className="routing-rule" onSubmit={save} aria-label={`Routing for ${address}`}>
      <h4>{address}</h4>
      <p className="muted small">Now: {describeRule(initial, directory)}</p>
      <fieldset>
        <legend>Assign new conversations to</legend>
        {kinds.map((k) => (
          <label key={k.id} className="radio">
            <input type="radio" name={`${id}-kind`} value={k.id} checked={kind === k.id} onChange={() => setKind(k.id)} /> {k.label}
          </label>
        ))}
      </fieldset>
      {kind === 'users' && <PoolEditor rule={pool} onChange={setPool} directory={directory} legend="Route to" />}
      {kind === 'contact_owner' && (
        <>
          <fieldset>
            <legend>When the owner cannot take it (away, at the cap, no owner)</legend>
            <label className="radio">
              <input type="radio" name={`${id}-fallback`} checked={fallback === 'none'} onChange={() => setFallback('none')} /> Leave it unassigned
            </label>
            <label className="radio">
              <input type="radio" name={`${id}-fallback`} checked={fallback === 'users'} onChange={() => setFallback('users')} /> Route to users and teams
            </label>
          </fieldset>
          {fallback === 'users' && <PoolEditor rule={pool} onChange={setPool} directory={directory} legend="Fallback" />}
        </>
      )}
      {state.error && <Notice kind="error">{state.error}</Notice>}
      {state.saved && <Notice kind="success">Routing saved.</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.busy}>
          {state.busy ? 'Saving…' : 'Save routing'}
        </button>
      </div>
    </form>
  );
}

export function RoutingSection({ inbox, directory }: { inbox: Inbox; directory: Directory }) {
  const { data, error, setData } = useLoad(() => getRouting(inbox.id), [inbox.id, inbox.connections.length]);
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return <Spinner />;
  if (data.rules.length === 0) return <p className="muted small">Routing rules belong to a team address. Connect a team email to this inbox first.</p>;
  return (
    <div>
      {data.rules.map((r) => (
        <RoutingRuleEditor
          key={r.connectionId}
          inboxId={inbox.id}
          connectionId={r.connectionId}
          address={r.address}
          initial={r.rule}
          directory={directory}
          onSaved={(rule) => setData({ ...data, rules: data.rules.map((x) => (x.connectionId === r.connectionId ? { ...x, rule } : x)) })}
        />
      ))}
    </div>
  );
}

export function SenderListsSection({ inbox }: { inbox: Inbox }) {
  const { data, error, setData } = useLoad(() => getSenderLists(inbox.id), [inbox.id]);
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return <Spinner />;
  const list = (which: SenderList) => data.entries.filter((e) => e.list === which).map((e) => ({ key: e.id, label: e.pattern }));
  return (
    <>
    {inbox.access === 'restricted' && <p className="muted small">This inbox is for its members only: its members change these lists (add yourself under Members and access).</p>}
    <div className="grid-2">
      <div>
        <h4>Allow list</h4>
        <EntryList
          listLabel={`Allowed senders of ${inbox.name}`}
          inputLabel="Always accept mail from"
          placeholder="ana@partner.com or @partner.com"
          hint="An address, or a domain written @example.com. Allowed senders are never sent to spam."
          empty="Nobody on the allow list."
          entries={list('allow')}
          onAdd={async (v) => setData(await addSenderListEntry(inbox.id, 'allow', v))}
          onRemove={async (k) => setData(await removeSenderListEntry(inbox.id, k))}
        />
      </div>
      <div>
        <h4>Deny list</h4>
        <EntryList
          listLabel={`Denied senders of ${inbox.name}`}
          inputLabel="Send to spam mail from"
          placeholder="@spam.example"
          hint="Their mail still arrives, in the Spam view, and is never routed."
          empty="Nobody on the deny list."
          entries={list('deny')}
          onAdd={async (v) => setData(await addSenderListEntry(inbox.id, 'deny', v))}
          onRemove={async (k) => setData(await removeSenderListEntry(inbox.id, k))}
        />
      </div>
    </div>
    </>
  );
}

const DAYS = [
  ['mon', 'Monday'],
  ['tue', 'Tuesday'],
  ['wed', 'Wednesday'],
  ['thu', 'Thursday'],
  ['fri', 'Friday'],
  ['sat', 'Saturday'],
  ['sun', 'Sunday'],
] as const;
type Day = (typeof DAYS)[number][0];
type Hours = { timezone: string; days: Partial<Record<Day, string[][]>> };

/** "09:00-12:00, 13:00-17:00" <-> [["09:00","12:00"],["13:00","17:00"]]; empty is a day off. */
const rangesText = (ranges: string[][] | undefined) => (ranges ?? []).map((r) => `${r[0]}-${r[1]}`).join(', ');
function parseRanges(text: string): string[][] | null {
  const out: string[][] = [];
  for (const part of text.split(',').map((p) => p.trim()).filter(Boolean)) {
    const m = /^(\d{1,2}:\d{2})\s*[-–]\s*(\d{1,2}:\d{2})$/.exec(part);
    if (!m) return null;
    out.push([m[1]!.padStart(5, '0'), m[2]!.padStart(5, '0')]);
  }
  return out;
}
const minutesText = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));

/** First-response and resolution targets in business hours (issue 21): the inbox's SLA. */
export function SlaSection({ inbox }: { inbox: Inbox }) {
  const id = useId().replace(/:/g, '');
  const { data, error, setData } = useLoad(() => getInboxSla(inbox.id), [inbox.id]);
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return <Spinner />;
  return <SlaForm id={id} inbox={inbox} initial={data} onSaved={setData} />;
}

function SlaForm({ id, inbox, initial, onSaved }: { id: string; inbox: Inbox; initial: InboxSla; onSaved: (s: InboxSla) => void }) {
  const hours = (initial.workingHours ?? null) as Hours | null;
  const [firstResponse, setFirstResponse] = useState(minutesText(initial.firstResponseMinutes));
  const [resolution, setResolution] = useState(minutesText(initial.resolutionMinutes));
  const [soon, setSoon] = useState(String(initial.soonMinutes ?? 60));
  // A first set-up proposes Monday to Friday 09:00-17:00 in the browser's time zone; saved targets keep their choice.
  const [allDay, setAllDay] = useState(hours === null && (initial.firstResponseMinutes !== null || initial.resolutionMinutes !== null));
  const [timezone, setTimezone] = useState(hours?.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone ?? 'UTC');
  const [days, setDays] = useState<Record<Day, string>>(
    () => Object.fromEntries(DAYS.map(([d]) => [d, hours ? rangesText(hours.days[d]) : d === 'sat' || d === 'sun' ? '' : '09:00-17:00'])) as Record<Day, string>,
  );
  const [state, setState] = useState<{ busy: boolean; error: string | null; saved: boolean }>({ busy: false, error: null, saved: false });
  const save = async (e: FormEvent) => {
    e.preventDefault();
    const minutes = (v: string) => (v.trim() === '' ? null : Number(v));
    let workingHours: Hours | null = null;
    if (!allDay) {
      const parsed: Partial<Record<Day, string[][]>> = {};
      for (const [d, label] of DAYS) {
        const r = parseRanges(days[d]);
        if (r === null) return setState({ busy: false, error: `${label}: write hours as 09:00-17:00, several separated by commas, or leave it empty for a day off.`, saved: false });
        if (r.length) parsed[d] = r;
      }
      workingHours = { timezone: timezone.trim(), days: parsed };
    }
    setState({ busy: true, error: null, saved: false });
    try {
      const saved = await setInboxSla(inbox.id, { firstResponseMinutes: minutes(firstResponse), resolutionMinutes: minutes(resolution), soonMinutes: minutes(soon), workingHours });
      setState({ busy: false, error: null, saved: true });
      onSaved(saved);
    } catch (err) {
      setState({ busy: false, error: errorText(err), saved: false });
    }
  };
  return (
    <form className="sla-settings" onSubmit={save} aria-label={`Service-level targets of ${inbox.name}`}>
      <p className="muted small">
        Targets count business time only: the hours below, minus the time a conversation is snoozed or waits on the customer. Leave a target empty for none.
      </p>
      <div className="grid-2">
        <div className="field">
          <label htmlFor={`${id}-fr`}>First response within (business minutes)</label>
          <input id={`${id}-fr`} type="number" min={1} inputMode="numeric" value={firstResponse} onChange={(e) => setFirstResponse(e.target.value)} placeholder="e.g. 60" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-res`}>Resolution within (business minutes)</label>
          <input id={`${id}-res`} type="number" min={1} inputMode="numeric" value={resolution} onChange={(e) => setResolution(e.target.value)} placeholder="e.g. 480" />
        </div>
        <div className="field">
          <label htmlFor={`${id}-soon`}>Breaching soon when due within (business minutes)</label>
          <input id={`${id}-soon`} type="number" min={1} inputMode="numeric" value={soon} onChange={(e) => setSoon(e.target.value)} />
        </div>
      </div>
      <fieldset>
        <legend>Business hours</legend>
        <label className="radio">
          <input type="checkbox" checked={allDay} onChange={(e) => setAllDay(e.target.checked)} /> Around the clock (every minute counts)
        </label>
        {!allDay && (
          <>
            <div className="field">
              <label htmlFor={`${id}-tz`}>Time zone</label>
              <input id={`${id}-tz`} value={timezone} onChange={(e) => setTimezone(e.target.value)} placeholder="Europe/Paris" />
            </div>
            {DAYS.map(([d, label]) => (
              <div key={d} className="field">
                <label htmlFor={`${id}-${d}`}>{label}</label>
                <input id={`${id}-${d}`} value={days[d]} onChange={(e) => setDays({ ...days, [d]: e.target.value })} placeholder="day off" />
              </div>
            ))}
          </>
        )}
      </fieldset>
      {state.error && <Notice kind="error">{state.error}</Notice>}
      {state.saved && <Notice kind="success">Targets saved. Open conversations were recomputed.</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.busy}>
          {state.busy ? 'Saving…' : 'Save targets'}
        </button>
      </div>
    </form>
  );
}
