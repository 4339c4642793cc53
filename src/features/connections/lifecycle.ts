/**
 * The one owner of a connection's lifecycle: its `state` and `stage` columns are written here and
 * nowhere else (commands and the sync loop call the named transitions below).
 *
 * States (what the user sees):
 *   syncing       IMAP: the initial import (or a new folder's) is under way
 *   active        up to date (forwarding connections are active from the start)
 *   error         the mail server could not be reached ERROR_AFTER_FAILURES times in a row (sync retries)
 *   auth_failed   the mail server refused the password; sync stops until the credentials are updated
 *   needs_reauth  OAuth: the provider refused the refresh token (invalid_grant: revoked, password changed,
 *                 expired; last_error_code oauth_reauth_required, event connection.needs_reauth); terminal:
 *                 no sync and no token calls until the owner signs in again (Reconnect → syncing)
 *   disconnected  sync and sending stopped; the row stays so a reconnect resumes
 * Stages (what the sync is doing, null when nothing in particular):
 *   initial_sync_queued  connected, the first sync pass has not started
 *   initial_sync         a folder's initial import is running
 *
 * `nextState` is the pure transition table (see lifecycle.test.ts for every allowed and refused
 * transition); the `mark*` functions read the row, ask the table, and write the result guarded by the
 * state they read, so a transition that lost a race is refused instead of overwriting.
 */
import type { Executor } from '../../platform/context.js';
import type { ConnectionStageColumn, ConnectionStateColumn, ConnectionsTable } from '../../platform/database/schema.js';
import { recordEvent } from '../../platform/events.js';

export const CONNECTION_STATES = ['syncing', 'active', 'error', 'auth_failed', 'needs_reauth', 'disconnected'] as const;
export type ConnectionState = (typeof CONNECTION_STATES)[number];

export const CONNECTION_STAGES = ['initial_sync_queued', 'initial_sync'] as const;
export type ConnectionStage = (typeof CONNECTION_STAGES)[number];

// The database schema types the columns with the same unions (platform/ cannot import a feature); these
// lines stop compiling if the two ever differ.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const statesMatchSchema: Same<ConnectionState, ConnectionStateColumn> = true;
const stagesMatchSchema: Same<ConnectionStage, ConnectionStageColumn> = true;
void statesMatchSchema;
void stagesMatchSchema;

/** Consecutive unreachable-server failures after which a live connection shows `error`. */
export const ERROR_AFTER_FAILURES = 3;

export type Transport = 'imap' | 'forwarding';

export interface Lifecycle {
  state: ConnectionState;
  stage: ConnectionStage | null;
}

export type LifecycleEvent =
  /** Connected (new row: current is null) or reconnected (from disconnected). */
  | { type: 'connected'; transport: Transport }
  /** A folder's initial import began. */
  | { type: 'syncStarted' }
  /** A folder's initial import finished. */
  | { type: 'initialSyncDone' }
  /** A sync pass finished; `initialPending`: some folder's initial import is not done yet. */
  | { type: 'syncSucceeded'; initialPending: boolean }
  /** The mail server could not be reached; `failureCount` counts this failure (consecutive failures). */
  | { type: 'syncFailed'; failureCount: number }
  /** The mail server refused the password. */
  | { type: 'authFailed' }
  /** OAuth: the provider refused the refresh token (invalid_grant), or the mail server refused a freshly renewed token. */
  | { type: 'reauthRequired' }
  /** New credentials or server settings were verified and stored. */
  | { type: 'credentialsUpdated'; transport: Transport }
  /** An admin released the address of a deactivated or removed user to another user (transfer). */
  | { type: 'released' }
  /** Disconnected by its owner or an admin (also the disconnecting ways of a release). */
  | { type: 'disconnected' };

export type LifecycleEventType = LifecycleEvent['type'];

export type Transition = { ok: true; next: Lifecycle } | { ok: false; reason: string };

const LIVE: readonly ConnectionState[] = ['syncing', 'active', 'error', 'auth_failed', 'needs_reauth'];
const SYNCING: readonly ConnectionState[] = ['syncing', 'active', 'error'];

/** States in which sync, sending and token calls wait for the owner (new password, or sign in again). */
export const WAITING_FOR_OWNER: readonly ConnectionState[] = ['auth_failed', 'needs_reauth'];
export function waitsForOwner(state: string): boolean {
  return (WAITING_FOR_OWNER as readonly string[]).includes(state);
}

/** From which states each event is allowed (null: the connection does not exist yet). */
export const ALLOWED_FROM: Record<LifecycleEventType, ReadonlyArray<ConnectionState | null>> = {
  connected: [null, 'disconnected'],
  syncStarted: SYNCING,
  initialSyncDone: SYNCING,
  syncSucceeded: SYNCING,
  syncFailed: SYNCING,
  authFailed: [...SYNCING, 'auth_failed'],
  reauthRequired: [...SYNCING, 'auth_failed', 'needs_reauth'],
  credentialsUpdated: LIVE,
  released: LIVE,
  disconnected: LIVE,
};

function refusal(current: Lifecycle | null, event: LifecycleEvent): string {
  const from = current?.state ?? 'no connection';
  if (event.type === 'connected') return `${event.type} is refused from ${from}: the address is already connected.`;
  if (current?.state === 'disconnected') return `${event.type} is refused from disconnected: a disconnected connection changes only by connecting again.`;
  if (current?.state === 'auth_failed') return `${event.type} is refused from auth_failed: sync waits for new credentials.`;
  if (current?.state === 'needs_reauth') return `${event.type} is refused from needs_reauth: sync waits for the owner to sign in again (Reconnect).`;
  return `${event.type} is refused from ${from}.`;
}

/** The transition table: the next state and stage, or why the event is refused. Pure. */
export function nextState(current: Lifecycle | null, event: LifecycleEvent): Transition {
  if (!ALLOWED_FROM[event.type].includes(current?.state ?? null)) return { ok: false, reason: refusal(current, event) };
  const stage = current?.stage ?? null;
  const to = (state: ConnectionState, s: ConnectionStage | null): Transition => ({ ok: true, next: { state, stage: s } });
  switch (event.type) {
    case 'connected':
      return event.transport === 'imap' ? to('syncing', 'initial_sync_queued') : to('active', null);
    case 'syncStarted':
      return to('syncing', 'initial_sync');
    case 'initialSyncDone':
      return to(current!.state, null);
    case 'syncSucceeded':
      return event.initialPending ? to('syncing', stage) : to('active', null);
    case 'syncFailed':
      return to(event.failureCount >= ERROR_AFTER_FAILURES ? 'error' : current!.state, stage);
    case 'authFailed':
      return to('auth_failed', null);
    case 'reauthRequired':
      return to('needs_reauth', null);
    case 'credentialsUpdated':
      return event.transport === 'imap' ? to('syncing', stage) : to('active', null);
    case 'released':
      return to(current!.state, stage);
    case 'disconnected':
      return to('disconnected', null);
  }
}

/** A transition the caller's own checks should have made impossible (a bug or a lost race). */
export class LifecycleError extends Error {
  override readonly name = 'LifecycleError';
}

// ---------------------------------------------------------------------------------------------
// Named transitions that write
// ---------------------------------------------------------------------------------------------

export type Applied = { ok: true; from: Lifecycle; to: Lifecycle; changed: boolean } | { ok: false; reason: string };

type Columns = Partial<Omit<ConnectionsTable, 'id' | 'state' | 'stage'>>;

/**
 * Reads the connection's lifecycle, asks the table, and writes the next state and stage with `also`
 * (other columns of the same change), guarded by the state read: a concurrent transition makes this
 * one refused, never overwritten.
 */
async function apply(
  db: Executor,
  id: string,
  event: LifecycleEvent | ((row: Pick<ConnectionsTable, 'state' | 'stage' | 'failure_count'>) => LifecycleEvent),
  also: Columns | ((next: Lifecycle) => Columns) = {},
  at: number = Date.now(),
): Promise<Applied> {
  // The state change and its domain event commit together, also for callers outside a transaction (the sync loop).
  if (!db.isTransaction) return db.transaction().execute((trx) => apply(trx, id, event, also, at));
  const row = await db.selectFrom('connections').select(['state', 'stage', 'failure_count', 'account_id']).where('id', '=', id).executeTakeFirst();
  if (!row) return { ok: false, reason: `Connection ${id} does not exist.` };
  const from: Lifecycle = { state: row.state, stage: row.stage };
  const e = typeof event === 'function' ? event(row) : event;
  const t = nextState(from, e);
  if (!t.ok) return t;
  const extra = typeof also === 'function' ? also(t.next) : also;
  const r = await db
    .updateTable('connections')
    .set({ ...extra, state: t.next.state, stage: t.next.stage })
    .where('id', '=', id)
    .where('state', '=', from.state)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) === 0) return { ok: false, reason: `Connection ${id} changed state concurrently; ${e.type} was not applied.` };
  await recordStateEvent(db, { accountId: row.account_id, connectionId: id, from: from.state, to: t.next.state, at });
  return { ok: true, from, to: t.next, changed: from.state !== t.next.state || from.stage !== t.next.stage };
}

/**
 * The domain event of a state change (src/platform/events.ts), in the transition's transaction: only on
 * a change of state, never on a retry that leaves it as it was. Back from error, auth_failed or
 * needs_reauth counts as connected again.
 */
export async function recordStateEvent(db: Executor, p: { accountId: string; connectionId: string; from: ConnectionState | null; to: ConnectionState; at: number }): Promise<void> {
  if (p.from === p.to) return;
  const type =
    p.to === 'auth_failed' || p.to === 'needs_reauth'
      ? 'connection.needs_reauth'
      : p.to === 'error'
        ? 'connection.sync_error'
        : p.to === 'disconnected'
          ? 'connection.disconnected'
          : p.from === null || p.from === 'disconnected' || p.from === 'error' || p.from === 'auth_failed' || p.from === 'needs_reauth'
            ? 'connection.connected'
            : null;
  if (!type) return;
  await recordEvent(db, { accountId: p.accountId, type, subject: { type: 'connection', id: p.connectionId }, data: { connectionId: p.connectionId, from: p.from, to: p.to }, at: p.at });
}

/** For commands whose own checks rule the refusal out: a refusal is a bug (or a lost race) and aborts. */
function required(a: Applied): Extract<Applied, { ok: true }> {
  if (!a.ok) throw new LifecycleError(a.reason);
  return a;
}

/**
 * The lifecycle columns of a connection being connected: a new row (`previous` null) or the reconnect
 * of a disconnected one. For the insert or update that writes the whole row; refused if `previous` is
 * live.
 */
export function connectedColumns(previous: Lifecycle | null, transport: Transport, now: number) {
  const t = nextState(previous, { type: 'connected', transport });
  if (!t.ok) throw new LifecycleError(t.reason);
  return {
    state: t.next.state,
    stage: t.next.stage,
    stage_started_at: now,
    failure_count: 0,
    last_error_code: null,
    last_error_message: null,
    last_error_at: null,
    disconnected_at: null,
    disconnected_by: null,
  };
}

/** A folder's initial import began (`total` messages to import): syncing, stage initial_sync. */
export function markSyncStarted(db: Executor, id: string, now: number, progress?: { total: number }): Promise<Applied> {
  return apply(db, id, { type: 'syncStarted' }, { stage_started_at: now, ...(progress ? { progress_total: progress.total, progress_done: 0 } : {}) });
}

/** A folder's initial import finished: the stage clears (the state follows at the end of the pass). */
export function markInitialSyncDone(db: Executor, id: string): Promise<Applied> {
  return apply(db, id, { type: 'initialSyncDone' });
}

/** A sync pass succeeded: active (or still syncing while an initial import is pending); failures reset. */
export function markSyncSucceeded(db: Executor, id: string, o: { initialPending: boolean }): Promise<Applied> {
  return apply(db, id, { type: 'syncSucceeded', initialPending: o.initialPending }, { failure_count: 0, last_error_code: null, last_error_message: null });
}

/**
 * The mail server could not be reached: one more consecutive failure recorded with its code and
 * message; `error` from the ERROR_AFTER_FAILURES-th on. Returns the failure count written.
 */
export async function markSyncFailed(db: Executor, id: string, o: { code: string; message: string; now: number }): Promise<Applied & { failureCount?: number }> {
  let failureCount = 0;
  const r = await apply(
    db,
    id,
    (row) => {
      failureCount = row.failure_count + 1;
      return { type: 'syncFailed', failureCount };
    },
    () => ({ failure_count: failureCount, last_error_code: o.code, last_error_message: o.message, last_error_at: o.now }),
    o.now,
  );
  return r.ok ? { ...r, failureCount } : r;
}

/**
 * The mail server refused the password: auth_failed, with the error recorded; sync stops. `changed`
 * is false when it already was (the caller notifies people only on the change).
 */
export async function markAuthFailed(db: Executor, id: string, o: { message: string; now: number; code?: string }): Promise<Applied & { failureCount?: number }> {
  let failureCount = 0;
  const r = await apply(
    db,
    id,
    (row) => {
      failureCount = row.failure_count + 1;
      return { type: 'authFailed' };
    },
    () => ({ failure_count: failureCount, last_error_code: o.code ?? 'imap_authentication_failed', last_error_message: o.message, last_error_at: o.now }),
    o.now,
  );
  return r.ok ? { ...r, failureCount } : r;
}

/**
 * OAuth: the provider refused the refresh token (or the mail server refused a token just renewed):
 * needs_reauth, with the error recorded. `from` tells the caller whether it changed (notify once).
 */
export function markNeedsReauth(db: Executor, id: string, o: { message: string; now: number; code?: string }): Promise<Applied> {
  return apply(db, id, { type: 'reauthRequired' }, { last_error_code: o.code ?? 'oauth_reauth_required', last_error_message: o.message, last_error_at: o.now }, o.now);
}

/** New credentials verified: IMAP connections sync again (syncing), forwarding ones are active; errors clear. */
export async function markCredentialsUpdated(db: Executor, id: string, o: { transport: Transport; now: number; also?: Columns }): Promise<Extract<Applied, { ok: true }>> {
  return required(await apply(db, id, { type: 'credentialsUpdated', transport: o.transport }, { ...o.also, failure_count: 0, last_error_code: null, last_error_message: null, updated_at: o.now }, o.now));
}

/** Released to another user (an admin's transfer of a deactivated or removed user's address); the state stays. */
export async function markReleased(db: Executor, id: string, o: { toUserId: string; makeDefaultFrom: boolean; now: number }): Promise<Extract<Applied, { ok: true }>> {
  return required(await apply(db, id, { type: 'released' }, { user_id: o.toUserId, is_default_from: o.makeDefaultFrom ? 1 : 0, use_for_meetings: 0, updated_at: o.now }, o.now));
}

/** Disconnected: sync and sending stop; a disconnected connection is neither the default "from" nor used for meetings. */
export async function markDisconnected(db: Executor, id: string, o: { by: string; now: number }): Promise<Extract<Applied, { ok: true }>> {
  return required(await apply(db, id, { type: 'disconnected' }, { disconnected_at: o.now, disconnected_by: o.by, updated_at: o.now, is_default_from: 0, use_for_meetings: 0 }, o.now));
}
