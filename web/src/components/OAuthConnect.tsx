/**
 * "Connect with Google / Microsoft / <provider>" (issue 14): buttons for the providers this Mailroom is
 * registered with (none shown when none is), the device-code screen ("Use a code instead") for a
 * Mailroom the browser cannot come back to, and the Reconnect of a mailbox whose sign-in expired.
 */
import { useEffect, useState } from 'react';
import { ApiError, errorText } from '../api/client.js';
import { completeOAuth, listOAuthProviders, listPendingOAuthFlows, pollOAuth, startOAuth, type OAuthProvider, type OAuthStart, type OAuthStartInput, type PendingOAuthFlow } from '../api/connections.js';
import type { Connection } from '../api/types.js';
import { CopyButton, Notice, useLoad } from './ui.js';

const ERROR_TITLES: Record<string, string> = {
  oauth_address_mismatch: 'You signed in with another address',
  oauth_state_invalid: 'This sign-in is no longer valid',
  oauth_denied: 'Mailroom was not allowed to use the mailbox',
  address_in_use: 'This address is already connected',
  plan_limit_reached: "Your plan's limit is reached",
  imap_authentication_failed: 'The mail server refused the sign-in',
  smtp_authentication_failed: 'The outgoing mail server refused the sign-in',
};

type DeviceStart = Extract<OAuthStart, { userCode?: string }>;

export function OAuthButtons({
  type,
  inboxId,
  connection,
  onConnected,
}: {
  type: 'personal' | 'team';
  inboxId?: string;
  /** Reconnect this connection (same address, history and sync checkpoint). */
  connection?: Connection;
  onConnected: (c: Connection) => void;
}) {
  const { data: providers } = useLoad(() => listOAuthProviders().catch(() => [] as OAuthProvider[]), []);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [device, setDevice] = useState<DeviceStart | null>(null);
  const shown = (providers ?? []).filter((p) => !connection || p.id === connection.oauthProvider);
  if (shown.length === 0) return null;

  const start = async (p: OAuthProvider, flow: 'code' | 'device') => {
    setBusy(true);
    setError(null);
    const input: OAuthStartInput = connection
      ? { provider: p.id!, flow, connectionId: connection.id }
      : { provider: p.id!, flow, type, ...(type === 'team' && inboxId ? { inboxId } : {}) };
    try {
      const s = await startOAuth(input);
      if (s.flow === 'code' && s.authorizationUrl) {
        window.location.assign(s.authorizationUrl);
        return;
      }
      setDevice(s);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };

  if (device) {
    return (
      <DeviceCodeScreen
        start={device}
        onConnected={(c) => {
          setDevice(null);
          onConnected(c);
        }}
        onCancel={() => setDevice(null)}
      />
    );
  }
  return (
    <div className="oauth-connect stack">
      <div className="row">
        {shown.map((p) => (
          <button key={p.id} type="button" className="btn btn-primary" disabled={busy} onClick={() => void start(p, 'code')} data-provider={p.id}>
            {connection ? `Reconnect with ${p.name}` : `Connect with ${p.name}`}
          </button>
        ))}
      </div>
      {shown.some((p) => p.deviceFlow) && (
        <p className="muted small">
          Mailroom not reachable from this browser?{' '}
          {shown
            .filter((p) => p.deviceFlow)
            .map((p) => (
              <button key={p.id} type="button" className="btn btn-link" disabled={busy} onClick={() => void start(p, 'device')}>
                Use a code for {p.name} instead
              </button>
            ))}
        </p>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </div>
  );
}

/**
 * Device-flow sign-ins started earlier and still waiting for their code (the page that showed it was
 * closed): Mailroom's worker keeps polling the provider, and each shows its code again until it is done.
 */
export function PendingSignIns({ onConnected }: { onConnected: (c: Connection) => void }) {
  // Each flow's `start` is made once per load (the code screen restarts its checks when it changes).
  const [flows, setFlows] = useState<Array<PendingOAuthFlow & { start: Parameters<typeof DeviceCodeScreen>[0]['start'] }>>([]);
  useEffect(() => {
    let live = true;
    listPendingOAuthFlows().then(
      (list) =>
        live &&
        setFlows(list.map((f) => ({ ...f, start: { flowId: f.flowId, userCode: f.userCode, verificationUri: f.verificationUri, verificationUriComplete: f.verificationUriComplete ?? null, intervalSeconds: f.intervalSeconds } }))),
      () => live && setFlows([]),
    );
    return () => {
      live = false;
    };
  }, []);
  if (flows.length === 0) return null;
  return (
    <div className="stack" data-testid="pending-sign-ins">
      {flows.map((f) => (
        <div key={f.flowId} className="stack">
          <h2>Waiting for a sign-in with {f.providerName ?? 'your provider'}</h2>
          <DeviceCodeScreen
            start={f.start}
            onConnected={(c) => {
              setFlows((list) => list.filter((x) => x.flowId !== f.flowId));
              onConnected(c);
            }}
            onCancel={() => setFlows((list) => list.filter((x) => x.flowId !== f.flowId))}
          />
        </div>
      ))}
    </div>
  );
}

/** Shows the code and the link; asks the server whether the user is done, at the interval it says. */
export function DeviceCodeScreen({ start, onConnected, onCancel }: { start: Pick<DeviceStart, 'flowId' | 'userCode' | 'verificationUri' | 'verificationUriComplete' | 'intervalSeconds'>; onConnected: (c: Connection) => void; onCancel: () => void }) {
  const [error, setError] = useState<{ title: string; message: string } | null>(null);
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async (delayS: number) => {
      timer = window.setTimeout(async () => {
        if (stopped) return;
        try {
          const s = await pollOAuth(start.flowId!);
          if (stopped) return;
          if (s.status === 'connected' && s.connection) return onConnected(s.connection as Connection);
          if (s.status === 'failed') return setError({ title: 'Not connected', message: s.error?.message ?? 'The sign-in did not complete.' });
          void tick(Math.max(1, s.retryAfterSeconds ?? start.intervalSeconds ?? 5));
        } catch (e) {
          if (e instanceof ApiError && e.status < 500) return setError({ title: 'Not connected', message: e.message });
          void tick(10);
        }
      }, delayS * 1000);
    };
    void tick(start.intervalSeconds ?? 5);
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [start, onConnected]);
  const link = start.verificationUriComplete ?? start.verificationUri ?? '';
  return (
    <section className="card stack device-code" aria-label="Sign in with a code">
      <p>
        Open{' '}
        <a href={link} target="_blank" rel="noreferrer">
          {start.verificationUri}
        </a>{' '}
        on any device, enter this code and sign in with the mailbox you are connecting:
      </p>
      <p className="device-code-value">
        <code data-testid="device-code">{start.userCode}</code> <CopyButton text={start.userCode ?? ''} label="Copy code" />
      </p>
      {error ? (
        <Notice kind="error" title={error.title}>
          {error.message}
        </Notice>
      ) : (
        <p className="muted small" role="status">
          Waiting for you to sign in… This page updates by itself. You may also close it: Mailroom keeps checking and connects the mailbox when you are done.
        </p>
      )}
      <div className="row">
        <button type="button" className="btn" onClick={onCancel}>
          {error ? 'Back' : 'Cancel'}
        </button>
      </div>
    </section>
  );
}

/**
 * The redirect back from the provider lands on Settings → Email with `code` and `state` (or `error`):
 * hands the URL to the server once, cleans the address bar, and shows what happened.
 */
export function OAuthCallback({ onConnected }: { onConnected: (c: Connection) => void }) {
  const [result, setResult] = useState<{ ok: true; address: string } | { ok: false; title: string; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    const params = new URLSearchParams(window.location.search);
    if (!params.get('state') || (!params.get('code') && !params.get('error'))) return;
    const url = window.location.href;
    window.history.replaceState(null, '', window.location.pathname);
    setBusy(true);
    completeOAuth(url)
      .then(
        (c) => {
          setResult({ ok: true, address: c.address });
          onConnected(c);
        },
        (e: unknown) => setResult({ ok: false, title: (e instanceof ApiError && ERROR_TITLES[e.code]) || 'The mailbox was not connected', message: errorText(e) }),
      )
      .finally(() => setBusy(false));
  }, [onConnected]);
  if (busy) return <Notice kind="info">Finishing the sign-in and checking the mailbox…</Notice>;
  if (!result) return null;
  return result.ok ? (
    <Notice kind="success" title="Connected">
      {result.address} is connected; Mailroom is importing its mail.
    </Notice>
  ) : (
    <Notice kind="error" title={result.title}>
      {result.message}
    </Notice>
  );
}
