/**
 * The conversation's actions besides assign-to-me and close: assign to someone else, snooze until a time,
 * move to another inbox. Each is a native select (keyboard and screen-reader friendly) that acts on choice.
 */
import { useState } from 'react';
import type { Inbox, User } from '../api/types.js';

/** Snooze choices relative to now, in the browser's time zone. */
export function snoozeChoices(now: Date): Array<{ id: string; label: string; at: Date }> {
  const at = (d: Date, h: number) => {
    const x = new Date(d);
    x.setHours(h, 0, 0, 0);
    return x;
  };
  const tomorrow = new Date(now);
  tomorrow.setDate(now.getDate() + 1);
  const monday = new Date(now);
  monday.setDate(now.getDate() + (((8 - now.getDay()) % 7) || 7));
  return [
    { id: 'hour', label: 'For 1 hour', at: new Date(now.getTime() + 3_600_000) },
    { id: 'tomorrow', label: 'Until tomorrow 9:00', at: at(tomorrow, 9) },
    { id: 'monday', label: 'Until Monday 9:00', at: at(monday, 9) },
    { id: 'week', label: 'For a week', at: new Date(now.getTime() + 7 * 86_400_000) },
  ];
}

export function ThreadActions({
  busy,
  assigneeId,
  users,
  inboxes,
  currentInboxId,
  onAssign,
  onSnooze,
  onMove,
}: {
  busy: boolean;
  assigneeId: string | null;
  users: User[];
  inboxes: Inbox[];
  currentInboxId: string;
  onAssign: (userId: string | null) => void;
  onSnooze: (until: Date) => void;
  onMove: (inboxId: string) => void;
}) {
  // Each select acts on choice and goes back to its prompt.
  const [, setTick] = useState(0);
  const reset = () => setTick((x) => x + 1);
  const choices = snoozeChoices(new Date());
  const others = inboxes.filter((i) => i.id !== currentInboxId);
  const people = users.filter((u) => u.seat !== 'view_only'); // active users only: the page lists those
  return (
    <div className="thread-actions" style={{ display: 'flex', flexWrap: 'wrap', gap: 6 }}>
      <select
        aria-label="Assign to"
        disabled={busy}
        value=""
        onChange={(e) => {
          const v = e.target.value;
          if (v) onAssign(v === '__none' ? null : v);
          reset();
        }}
      >
        <option value="">Assign to…</option>
        {assigneeId && <option value="__none">Unassigned</option>}
        {people
          .filter((u) => u.id !== assigneeId)
          .map((u) => (
            <option key={u.id} value={u.id}>
              {u.name}
            </option>
          ))}
      </select>
      <select
        aria-label="Snooze"
        disabled={busy}
        value=""
        onChange={(e) => {
          const c = choices.find((x) => x.id === e.target.value);
          if (c) onSnooze(c.at);
          reset();
        }}
      >
        <option value="">Snooze…</option>
        {choices.map((c) => (
          <option key={c.id} value={c.id}>
            {c.label}
          </option>
        ))}
      </select>
      {others.length > 0 && (
        <select
          aria-label="Move to inbox"
          disabled={busy}
          value=""
          onChange={(e) => {
            if (e.target.value) onMove(e.target.value);
            reset();
          }}
        >
          <option value="">Move to…</option>
          {others.map((i) => (
            <option key={i.id} value={i.id}>
              {i.name}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}
