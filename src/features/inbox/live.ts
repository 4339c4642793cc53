/**
 * Live updates of conversations inboxes: an in-process event bus that the server-sent events endpoint
 * (`GET /api/v1/inboxes/{id}/events`) listens to, plus presence (who else is viewing or replying).
 *
 * Events are published only after the change is committed:
 *  - commands publish after their transaction returns;
 *  - hooks that run inside someone else's transaction (ingest, user state changes) use `afterCommit`,
 *    which waits until the change is visible from outside the transaction (on SQLite the check simply
 *    waits for the one connection the transaction holds; on PostgreSQL it polls briefly). A change that
 *    was rolled back is never announced.
 *
 * Several processes (PostgreSQL): every publish also goes out as `pg_notify('mailroom_inbox', ...)`.
 * A process that runs the web role starts a LISTEN connection (`startPgInboxChannel` in
 * store/inbox-channel.ts); it then delivers what it hears to its subscribers, its own events included,
 * so an agent connected to web process A sees a message stored by worker process B. Without a
 * listener (SQLite, or a PostgreSQL process that serves no browsers) events are delivered in-process.
 * Presence heartbeats travel the same way, so every process knows every viewer.
 */
import { EventEmitter } from 'node:events';
import { sql } from 'kysely';
import { onCommit } from '../../platform/database/after-commit.js';
import type { CommandEnv } from '../../platform/context.js';
import type { Kysely } from 'kysely';
import type { DB } from '../../platform/database/schema.js';

export type InboxEventType =
  | 'conversation.created'
  | 'conversation.updated'
  | 'conversation.moved_in'
  | 'conversation.moved_out'
  | 'message.created'
  | 'activity.created'
  | 'presence';

export interface InboxEvent {
  type: InboxEventType;
  inboxId: string;
  conversationId: string;
  /** Small facts a list can apply without refetching (status, assigneeId, messageId...). */
  data?: Record<string, unknown>;
  at: number;
}

export const PG_CHANNEL = 'mailroom_inbox';

class InboxEventBus {
  private readonly emitter = new EventEmitter();
  /** Set while this process LISTENs on PostgreSQL: it then delivers what it hears instead of local publishes. */
  remoteListening = false;

  constructor() {
    this.emitter.setMaxListeners(0);
  }

  /** Calls `fn` for every event of the inbox; returns the unsubscribe function. */
  subscribe(inboxId: string, fn: (e: InboxEvent) => void): () => void {
    const name = `inbox:${inboxId}`;
    this.emitter.on(name, fn);
    return () => this.emitter.off(name, fn);
  }

  /** Every event of every inbox (presence bookkeeping). */
  subscribeAll(fn: (e: InboxEvent) => void): () => void {
    this.emitter.on('*', fn);
    return () => this.emitter.off('*', fn);
  }

  listenerCount(inboxId: string): number {
    return this.emitter.listenerCount(`inbox:${inboxId}`);
  }

  /** Hands an event to this process's subscribers. */
  deliver(e: InboxEvent): void {
    this.emitter.emit('*', e);
    this.emitter.emit(`inbox:${e.inboxId}`, e);
  }

  /** Publishes committed changes to every process. */
  async publish(env: Pick<CommandEnv, 'db' | 'dialect'>, events: readonly InboxEvent[]): Promise<void> {
    if (!events.length) return;
    if (env.dialect === 'postgres') {
      // One statement for all of them (a notification each, in order): a group of inbound mail publishes
      // a few per message, and a round trip each held a pooled connection for every one.
      try {
        await sql`select pg_notify(${PG_CHANNEL}, payload) from unnest(${events.map((e) => JSON.stringify(e))}::text[]) with ordinality as t(payload, n) order by n`.execute(env.db);
      } catch {
        /* live updates are best effort: the next reload shows the change */
      }
      if (this.remoteListening) return;
    }
    for (const e of events) this.deliver(e);
  }
}

export const inboxEvents = new InboxEventBus();

/** Publishes after the caller's transaction commits (see the module note). `visible` answers true once it has. */
export function afterCommit(env: Pick<CommandEnv, 'db' | 'dialect'>, visible: (db: Kysely<DB>) => Promise<boolean>, events: InboxEvent[], trx?: object): void {
  if (!events.length) return;
  // A transaction that says when it commits (platform/database/after-commit.ts) needs no polling.
  if (trx && onCommit(trx, () => void inboxEvents.publish(env, events).catch(() => undefined))) return;
  void (async () => {
    const delays = [0, 10, 20, 40, 80, 160, 320, 640, 1000, 1500];
    for (const d of delays) {
      if (d) await new Promise((r) => setTimeout(r, d));
      try {
        if (await visible(env.db)) {
          await inboxEvents.publish(env, events);
          return;
        }
      } catch {
        return; // database closed (tests, shutdown)
      }
    }
  })();
}

// ------------------------------------------------------------------------------------------------
// Presence: who is viewing or replying to a conversation. Browsers send a heartbeat every ~15 s;
// an entry lasts 30 s unless renewed, and ends at once when the browser says "left".

export type PresenceActivity = 'viewing' | 'replying' | 'left';
export const PRESENCE_TTL_MS = 30_000;

export interface Viewer {
  userId: string;
  name: string;
  activity: 'viewing' | 'replying';
  until: number;
}

const viewers = new Map<string, Map<string, Viewer>>(); // conversationId -> userId -> viewer

inboxEvents.subscribeAll((e) => {
  if (e.type !== 'presence' || !e.data) return;
  const d = e.data as { userId: string; name: string; activity: PresenceActivity; until: number };
  let m = viewers.get(e.conversationId);
  if (d.activity === 'left') {
    m?.delete(d.userId);
    if (m && !m.size) viewers.delete(e.conversationId);
    return;
  }
  if (!m) viewers.set(e.conversationId, (m = new Map()));
  m.set(d.userId, { userId: d.userId, name: d.name, activity: d.activity, until: d.until });
});

/** The people looking at a conversation now (entries past their time are dropped). */
export function viewersOf(conversationId: string, now: number): Viewer[] {
  const m = viewers.get(conversationId);
  if (!m) return [];
  for (const [k, v] of m) if (v.until <= now) m.delete(k);
  if (!m.size) viewers.delete(conversationId);
  return [...m.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** Records a heartbeat (or "left") and tells the inbox's other viewers. */
export async function presenceHeartbeat(env: Pick<CommandEnv, 'db' | 'dialect'>, p: { inboxId: string; conversationId: string; userId: string; name: string; activity: PresenceActivity; now: number }): Promise<void> {
  await inboxEvents.publish(env, [
    { type: 'presence', inboxId: p.inboxId, conversationId: p.conversationId, at: p.now, data: { userId: p.userId, name: p.name, activity: p.activity, until: p.now + PRESENCE_TTL_MS } },
  ]);
}

// ------------------------------------------------------------------------------------------------
// One shared PostgreSQL listener per process (reference-counted: several apps in one test process).

let shared: { users: number; ready: Promise<{ close(): Promise<void> } | null> } | null = null;

/**
 * Starts (or joins) this process's LISTEN connection. Returns a release function. When the listener
 * cannot start, events stay in-process (and a warning goes to `onError`).
 */
export async function joinPgInboxChannel(url: string, listen: (url: string, channel: string, onPayload: (p: string) => void, onError: (e: Error) => void) => Promise<{ close(): Promise<void> }>, onError: (e: Error) => void = () => undefined): Promise<() => Promise<void>> {
  if (!shared) {
    const state = {
      users: 0,
      ready: listen(
        url,
        PG_CHANNEL,
        (payload) => {
          try {
            inboxEvents.deliver(JSON.parse(payload) as InboxEvent);
          } catch {
            /* not ours */
          }
        },
        onError,
      ).then(
        (ch) => {
          inboxEvents.remoteListening = true;
          return ch;
        },
        (err: Error) => {
          onError(err);
          return null;
        },
      ),
    };
    shared = state;
  }
  const mine = shared;
  mine.users += 1;
  await mine.ready;
  let released = false;
  return async () => {
    if (released) return;
    released = true;
    mine.users -= 1;
    if (mine.users === 0 && shared === mine) {
      shared = null;
      inboxEvents.remoteListening = false;
      const ch = await mine.ready;
      await ch?.close();
    }
  };
}
