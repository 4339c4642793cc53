/**
 * PostgreSQL LISTEN for inbox live updates, so several Mailroom processes share them: every process
 * publishes with `pg_notify('mailroom_inbox', json)` (see commands/support/inbox-events.ts); a process
 * that serves browsers keeps one connection LISTENing and hands what it hears to its subscribers.
 * NOTIFY is delivered only after the publishing transaction commits, and to every listener, the
 * publisher's own process included. The connection reconnects with backoff when it drops.
 */
import pg from 'pg';

export interface PgChannel {
  close(): Promise<void>;
}

export async function listenPg(url: string, channel: string, onPayload: (payload: string) => void, onError: (err: Error) => void = () => undefined): Promise<PgChannel> {
  let client: pg.Client | null = null;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | null = null;

  const connect = async (): Promise<void> => {
    const c = new pg.Client({ connectionString: url });
    c.on('notification', (n) => {
      if (n.channel === channel && n.payload) onPayload(n.payload);
    });
    c.on('error', (err) => {
      onError(err);
      retry();
    });
    c.on('end', () => retry());
    await c.connect();
    await c.query(`LISTEN "${channel.replace(/"/g, '')}"`);
    client = c;
    attempt = 0;
  };
  const retry = () => {
    if (closed || timer) return;
    client = null;
    const delay = Math.min(30_000, 500 * 2 ** attempt++);
    timer = setTimeout(() => {
      timer = null;
      connect().catch((err: Error) => {
        onError(err);
        retry();
      });
    }, delay);
    timer.unref();
  };

  await connect();
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      const c = client;
      client = null;
      if (c) await c.end().catch(() => undefined);
    },
  };
}
