import { describe, expect, test } from 'vitest';
import { ALLOWED_FROM, CONNECTION_STAGES, CONNECTION_STATES, connectedColumns, ERROR_AFTER_FAILURES, LifecycleError, nextState, type ConnectionState, type Lifecycle, type LifecycleEvent } from './lifecycle.js';

/** The events, with the variants whose outcome differs. */
const EVENTS: Record<string, LifecycleEvent> = {
  'connected(imap)': { type: 'connected', transport: 'imap' },
  'connected(forwarding)': { type: 'connected', transport: 'forwarding' },
  syncStarted: { type: 'syncStarted' },
  initialSyncDone: { type: 'initialSyncDone' },
  'syncSucceeded(pending)': { type: 'syncSucceeded', initialPending: true },
  'syncSucceeded(done)': { type: 'syncSucceeded', initialPending: false },
  'syncFailed(1)': { type: 'syncFailed', failureCount: 1 },
  [`syncFailed(${ERROR_AFTER_FAILURES})`]: { type: 'syncFailed', failureCount: ERROR_AFTER_FAILURES },
  authFailed: { type: 'authFailed' },
  reauthRequired: { type: 'reauthRequired' },
  'credentialsUpdated(imap)': { type: 'credentialsUpdated', transport: 'imap' },
  'credentialsUpdated(forwarding)': { type: 'credentialsUpdated', transport: 'forwarding' },
  released: { type: 'released' },
  disconnected: { type: 'disconnected' },
};

/** Where each row starts: no connection yet, or a state with a typical stage. */
const FROM: Record<string, Lifecycle | null> = {
  none: null,
  'syncing/initial_sync': { state: 'syncing', stage: 'initial_sync' },
  active: { state: 'active', stage: null },
  error: { state: 'error', stage: null },
  auth_failed: { state: 'auth_failed', stage: null },
  needs_reauth: { state: 'needs_reauth', stage: null },
  disconnected: { state: 'disconnected', stage: null },
};

const X = 'refused';
/**
 * The whole table: `state` or `state/stage` (no stage written as just the state), or refused. Columns in
 * the order of EVENTS.
 */
const TABLE: Record<string, string[]> = {
  // connected(imap), connected(forwarding), syncStarted, initialSyncDone, syncSucceeded(pending), syncSucceeded(done),
  // syncFailed(1), syncFailed(3), authFailed, reauthRequired, credentialsUpdated(imap), credentialsUpdated(forwarding), released, disconnected
  none: ['syncing/initial_sync_queued', 'active', X, X, X, X, X, X, X, X, X, X, X, X],
  'syncing/initial_sync': [X, X, 'syncing/initial_sync', 'syncing', 'syncing/initial_sync', 'active', 'syncing/initial_sync', 'error/initial_sync', 'auth_failed', 'needs_reauth', 'syncing/initial_sync', 'active', 'syncing/initial_sync', 'disconnected'],
  active: [X, X, 'syncing/initial_sync', 'active', 'syncing', 'active', 'active', 'error', 'auth_failed', 'needs_reauth', 'syncing', 'active', 'active', 'disconnected'],
  error: [X, X, 'syncing/initial_sync', 'error', 'syncing', 'active', 'error', 'error', 'auth_failed', 'needs_reauth', 'syncing', 'active', 'error', 'disconnected'],
  auth_failed: [X, X, X, X, X, X, X, X, 'auth_failed', 'needs_reauth', 'syncing', 'active', 'auth_failed', 'disconnected'],
  // needs_reauth is terminal until Reconnect (credentialsUpdated): a password failure cannot overwrite it.
  needs_reauth: [X, X, X, X, X, X, X, X, X, 'needs_reauth', 'syncing', 'active', 'needs_reauth', 'disconnected'],
  disconnected: ['syncing/initial_sync_queued', 'active', X, X, X, X, X, X, X, X, X, X, X, X],
};

const show = (l: Lifecycle) => (l.stage ? `${l.state}/${l.stage}` : l.state);

describe('the connection lifecycle table', () => {
  const eventNames = Object.keys(EVENTS);
  const cases = Object.entries(TABLE).flatMap(([from, row]) => {
    expect(row).toHaveLength(eventNames.length);
    return row.map((expected, i) => [from, eventNames[i]!, expected] as const);
  });

  test.each(cases)('%s + %s → %s', (from, event, expected) => {
    const t = nextState(FROM[from]!, EVENTS[event]!);
    if (expected === X) {
      expect(t.ok).toBe(false);
      if (!t.ok) expect(t.reason).toMatch(/refused/);
    } else {
      expect(t).toEqual({ ok: true, next: expect.anything() });
      if (t.ok) expect(show(t.next)).toBe(expected);
    }
  });

  test('the table covers every state and every event, and only states and stages that exist', () => {
    expect(Object.values(FROM).map((f) => f?.state ?? null).sort()).toEqual([null, ...CONNECTION_STATES].sort());
    expect(new Set(Object.values(EVENTS).map((e) => e.type))).toEqual(new Set(Object.keys(ALLOWED_FROM)));
    for (const from of Object.values(FROM)) {
      for (const e of Object.values(EVENTS)) {
        const t = nextState(from, e);
        if (!t.ok) continue;
        expect(CONNECTION_STATES).toContain(t.next.state);
        if (t.next.stage !== null) expect(CONNECTION_STAGES).toContain(t.next.stage);
      }
    }
  });

  test('the stage a state carries is kept by events that do not own it, whatever it is', () => {
    for (const stage of [null, ...CONNECTION_STAGES]) {
      const from: Lifecycle = { state: 'syncing', stage };
      expect(nextState(from, { type: 'released' })).toEqual({ ok: true, next: from });
      expect(nextState(from, { type: 'syncFailed', failureCount: 1 })).toEqual({ ok: true, next: from });
      expect(nextState(from, { type: 'syncSucceeded', initialPending: true })).toEqual({ ok: true, next: from });
      expect(nextState(from, { type: 'disconnected' })).toEqual({ ok: true, next: { state: 'disconnected', stage: null } });
    }
  });

  test(`a live connection shows error from the ${ERROR_AFTER_FAILURES}th consecutive failure on`, () => {
    const states: ConnectionState[] = [];
    let l: Lifecycle = { state: 'active', stage: null };
    for (let n = 1; n <= ERROR_AFTER_FAILURES + 1; n++) {
      const t = nextState(l, { type: 'syncFailed', failureCount: n });
      if (!t.ok) throw new Error(t.reason);
      l = t.next;
      states.push(l.state);
    }
    expect(states).toEqual([...Array(ERROR_AFTER_FAILURES - 1).fill('active'), 'error', 'error']);
    const back = nextState(l, { type: 'syncSucceeded', initialPending: false });
    expect(back.ok && back.next).toEqual({ state: 'active', stage: null });
  });

  test('refusals say why', () => {
    const live = nextState({ state: 'active', stage: null }, { type: 'connected', transport: 'imap' });
    expect(!live.ok && live.reason).toMatch(/already connected/);
    const gone = nextState({ state: 'disconnected', stage: null }, { type: 'syncSucceeded', initialPending: false });
    expect(!gone.ok && gone.reason).toMatch(/connecting again/);
    const auth = nextState({ state: 'auth_failed', stage: null }, { type: 'syncStarted' });
    expect(!auth.ok && auth.reason).toMatch(/new credentials/);
    const reauth = nextState({ state: 'needs_reauth', stage: null }, { type: 'syncSucceeded', initialPending: false });
    expect(!reauth.ok && reauth.reason).toMatch(/sign in again/);
  });
});

describe('connectedColumns', () => {
  test('a new IMAP connection starts syncing with its first pass queued, errors and disconnection cleared', () => {
    expect(connectedColumns(null, 'imap', 1000)).toEqual({
      state: 'syncing',
      stage: 'initial_sync_queued',
      stage_started_at: 1000,
      failure_count: 0,
      last_error_code: null,
      last_error_message: null,
      last_error_at: null,
      disconnected_at: null,
      disconnected_by: null,
    });
  });

  test('a forwarding connection is active at once; a reconnect is allowed, connecting a live one is not', () => {
    expect(connectedColumns({ state: 'disconnected', stage: null }, 'forwarding', 5)).toMatchObject({ state: 'active', stage: null });
    expect(() => connectedColumns({ state: 'active', stage: null }, 'imap', 5)).toThrow(LifecycleError);
  });
});
