/**
 * "Send test email" for a team address connected by forwarding: Mailroom sends a test to the address;
 * when the customer's mail server forwards it back, forwarding is verified. Polls while waiting.
 */
import { useEffect, useState } from 'react';
import { errorText } from '../api/client.js';
import { getConnection, sendForwardingTest } from '../api/connections.js';
import type { Connection } from '../api/types.js';
import { Notice } from './ui.js';

const KIND = { verified: 'success', not_received: 'warning', send_failed: 'error', never: 'info', sending: 'info', waiting: 'info' } as const;

export function ForwardingCheck({ connection }: { connection: Connection }) {
  const [c, setC] = useState(connection);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => setC(connection), [connection]);
  const check = c.forwardingCheck;
  const pending = check?.state === 'sending' || check?.state === 'waiting';
  useEffect(() => {
    if (!pending) return;
    const t = window.setInterval(() => {
      getConnection(c.id).then(setC, () => undefined);
    }, 2000);
    return () => window.clearInterval(t);
  }, [pending, c.id]);
  if (!check) return null;
  const send = async () => {
    setError(null);
    setBusy(true);
    try {
      setC(await sendForwardingTest(c.id));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <div className="forwarding-check" aria-live="polite">
      <Notice kind={KIND[check.state]}>{check.message}</Notice>
      <button type="button" className="btn btn-small" onClick={() => void send()} disabled={busy || pending}>
        {pending ? 'Waiting for the test email…' : check.state === 'verified' ? 'Send another test email' : 'Send test email'}
      </button>
      {error && <Notice kind="error">{error}</Notice>}
    </div>
  );
}
