import type { Connection } from '../api/types.js';
import { Badge } from './ui.js';

export const STATE_WORDS: Record<string, { label: string; tone: 'neutral' | 'good' | 'warn' | 'bad' | 'info' }> = {
  syncing: { label: 'Importing mail', tone: 'info' },
  active: { label: 'Connected', tone: 'good' },
  auth_failed: { label: 'Password stopped working', tone: 'bad' },
  error: { label: 'Needs attention', tone: 'bad' },
  disconnected: { label: 'Disconnected', tone: 'neutral' },
};

export function StateBadge({ state }: { state: string }) {
  const w = STATE_WORDS[state] ?? { label: state, tone: 'neutral' as const };
  return <Badge tone={w.tone}>{w.label}</Badge>;
}

const PLAIN_ERRORS: Record<string, string> = {
  imap_authentication_failed:
    'The incoming mail server no longer accepts the password. It may have been changed, or the provider needs an app password. Enter the current password to reconnect.',
  smtp_authentication_failed: 'The outgoing mail server no longer accepts the password. Enter the current password to reconnect.',
  imap_settings_incorrect: 'Mailroom cannot reach the incoming mail server. Check the server name, port and security setting.',
  smtp_settings_incorrect: 'Mailroom cannot reach the outgoing mail server. Check the server name, port and security setting.',
  timeout: 'The mail server took too long to answer. Mailroom keeps trying; if it keeps happening, check the server settings.',
};

/** The last error in plain words: the server's own message when it has one, else ours. */
export function plainError(c: Connection): string | null {
  if (!c.lastError) return null;
  return c.lastError.message || PLAIN_ERRORS[c.lastError.code] || 'Something went wrong with this connection. Reconnect it to try again.';
}

/** The fix-it action for a connection in trouble, or null. */
export function fixItLabel(c: Connection): string | null {
  if (c.state === 'auth_failed' || c.lastError?.code?.endsWith('authentication_failed')) return 'Enter the new password';
  if (c.state === 'error') return 'Check settings and reconnect';
  return null;
}

export function SyncProgress({ c }: { c: Connection }) {
  if (c.state !== 'syncing') return null;
  const done = c.progress?.done ?? 0;
  const total = c.progress?.total ?? null;
  const label = total ? `Importing mail: ${done.toLocaleString()} of ${total.toLocaleString()} messages` : `Importing mail: ${done.toLocaleString()} messages so far`;
  return (
    <div className="sync-progress">
      <progress max={total ?? undefined} value={total ? Math.min(done, total) : undefined} aria-label={label} />
      <span className="sync-progress-label">{label}</span>
    </div>
  );
}
