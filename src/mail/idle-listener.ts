/**
 * Listening for new mail on an open IMAP session (issue 20). `listenForChange` selects INBOX (read-only)
 * and waits for a change, keeping the session live the whole time:
 *
 * - with IDLE (RFC 2177): IDLE is re-issued every `idleReissueMs` (DONE, then a NOOP that must be answered
 *   within `probeMs`, then IDLE again). The re-issue interval is shorter than the socket timeout, so a live
 *   session never goes quiet long enough for it; a NOOP that is not answered means a dead socket, which is
 *   closed at once so the caller reconnects. An IDLE ended by anything else (the server, imapflow's own
 *   timeout recovery) is re-issued at once: a session never sits selected without listening.
 * - without IDLE: waits `maxWaitMs` (the caller then polls), with a NOOP every `idleReissueMs` that keeps
 *   the socket busy and notices a dead one.
 *
 * Returns 'exists' (new mail), 'timeout' (maxWaitMs passed: time for the other folders), 'aborted'
 * (signal), or 'closed' (the session died: reconnect). Every outcome except 'closed' leaves the session
 * usable, out of IDLE.
 */
import type { ImapFlow } from 'imapflow';

export interface ListenOptions {
  idleReissueMs: number;
  probeMs: number;
  /** Returns 'timeout' after this long (the caller then polls folders that have no IDLE). */
  maxWaitMs: number;
  signal: AbortSignal;
  /** UIDNEXT the caller has already synced INBOX up to: when the server is ahead, returns 'exists' at once. */
  knownUidNext?: number;
  /** Called once IDLE is acknowledged for the first time ('live') or polling begins ('polling'). */
  onListening?: (mode: 'live' | 'polling') => void;
  /** Called after each re-issue (tests and metrics). */
  onReissue?: () => void;
}

export type ListenOutcome = 'exists' | 'timeout' | 'aborted' | 'closed';

/** Whether the server offers IDLE (after login, capabilities are final). */
export function supportsIdle(client: ImapFlow): boolean {
  return client.capabilities.has('IDLE');
}

/** NOOP with a deadline: false when it fails or is not answered in time. Breaks IDLE first when idling. */
export function probe(client: ImapFlow, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    client.noop().then(
      () => {
        clearTimeout(timer);
        resolve(client.usable);
      },
      () => {
        clearTimeout(timer);
        resolve(false);
      },
    );
  });
}

export async function listenForChange(client: ImapFlow, o: ListenOptions): Promise<ListenOutcome> {
  if (!client.usable) return 'closed';
  if (o.signal.aborted) return 'aborted';
  const selected = client.mailbox && typeof client.mailbox === 'object' ? client.mailbox : null;
  let box = selected;
  if (!selected || selected.path !== 'INBOX') {
    try {
      box = await client.mailboxOpen('INBOX', { readOnly: true });
    } catch {
      return client.usable ? 'timeout' : 'closed';
    }
  }
  if (o.knownUidNext !== undefined && box && box.uidNext > o.knownUidNext) return 'exists';

  if (!supportsIdle(client)) {
    o.onListening?.('polling');
    return waitQuietly(client, o);
  }

  return new Promise<ListenOutcome>((resolve) => {
    let finished = false;
    let breaking = false;
    let announced = false;
    let reissueTimer: NodeJS.Timeout | null = null;

    const cleanup = () => {
      clearTimeout(deadline);
      if (reissueTimer) clearTimeout(reissueTimer);
      client.off('exists', onExists);
      client.off('close', onClose);
      o.signal.removeEventListener('abort', onAbort);
    };
    /** Ends listening: out of IDLE with a NOOP (which also proves the session is alive), then resolves. */
    const stop = (why: ListenOutcome) => {
      if (finished) return;
      finished = true;
      cleanup();
      if (why === 'closed') return resolve('closed');
      void probe(client, o.probeMs).then((alive) => {
        if (!alive) client.close();
        resolve(alive ? why : 'closed');
      });
    };
    const onExists = () => stop('exists');
    const onClose = () => {
      if (finished) return;
      finished = true;
      cleanup();
      resolve('closed');
    };
    const onAbort = () => stop('aborted');
    const deadline = setTimeout(() => stop('timeout'), Math.max(o.maxWaitMs, 0));

    const reissue = () => {
      if (finished) return;
      breaking = true;
      void probe(client, o.probeMs).then((alive) => {
        breaking = false;
        if (finished) return;
        if (!alive) {
          // A dead socket: nothing answered the NOOP. Close it; the caller reconnects.
          finished = true;
          cleanup();
          client.close();
          return resolve('closed');
        }
        o.onReissue?.();
        startIdle();
      });
    };

    const startIdle = () => {
      if (finished) return;
      if (reissueTimer) clearTimeout(reissueTimer);
      reissueTimer = setTimeout(reissue, o.idleReissueMs);
      client.idle().then(
        () => {
          // IDLE ended. By us (a re-issue or stop): they carry on. By anything else: listen again now.
          if (finished || breaking) return;
          if (!client.usable) return onClose();
          setImmediate(startIdle);
        },
        () => onClose(),
      );
      if (!announced) {
        announced = true;
        // imapflow marks the session idling when IDLE is sent; the "+" follows within a round trip.
        o.onListening?.('live');
      }
    };

    client.on('exists', onExists);
    client.on('close', onClose);
    o.signal.addEventListener('abort', onAbort, { once: true });
    startIdle();
  });
}

/**
 * Without IDLE: waits up to maxWaitMs (the caller's poll interval), with a NOOP every idleReissueMs so
 * that the socket never goes quiet long enough to time out and a dead one is noticed; many servers also
 * report new mail (EXISTS) in the NOOP's answer, which ends the wait early.
 */
function waitQuietly(client: ImapFlow, o: ListenOptions): Promise<ListenOutcome> {
  const end = Date.now() + Math.max(o.maxWaitMs, 0);
  return new Promise((resolve) => {
    let done = false;
    let timer: NodeJS.Timeout | null = null;
    const finish = (why: ListenOutcome) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      client.off('close', onClose);
      client.off('exists', onExists);
      o.signal.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onClose = () => finish('closed');
    const onAbort = () => finish('aborted');
    const onExists = () => finish('exists');
    const step = () => {
      const left = end - Date.now();
      if (left <= 0) return finish('timeout');
      timer = setTimeout(() => {
        if (done) return;
        if (Date.now() >= end) return finish('timeout');
        void probe(client, o.probeMs).then((alive) => {
          if (done) return;
          if (!alive) {
            client.close();
            return finish('closed');
          }
          o.onReissue?.();
          step();
        });
      }, Math.min(left, o.idleReissueMs));
    };
    client.on('close', onClose);
    client.on('exists', onExists);
    o.signal.addEventListener('abort', onAbort, { once: true });
    step();
  });
}
