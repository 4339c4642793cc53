import type { Connection, Listening } from '../api/types.js';
import { formatDateTime } from '../lib/format.js';
import { Badge } from './ui.js';

export const STATE_WORDS: Record<string, { label: string; tone: 'neutral' | 'good' | 'warn' | 'bad' | 'info' }> = {
  syncing: { label: 'Importing mail', tone: 'info' },
  active: { label: 'Connected', tone: 'good' },
  auth_failed: { label: 'Password stopped working', tone: 'bad' },
  needs_reauth: { label: 'Sign in again', tone: 'bad' },
  error: { label: 'Needs attention', tone: 'bad' },
  disconnected: { label: 'Disconnected', tone: 'neutral' },
};

export function StateBadge({ state }: { state: string }) {
  const w = STATE_WORDS[state] ?? { label: state, tone: 'neutral' as const };
  return <Badge tone={w.tone}>{w.label}</Badge>;
}

export const LISTENING_WORDS: Record<NonNullable<Listening>, { label: string; tone: 'good' | 'info' | 'warn' }> = {
  live: { label: 'Live: new mail shows in seconds', tone: 'good' },
  polling: { label: 'Polling: this server has no push; checked every few minutes', tone: 'info' },
  waiting: { label: 'Waiting to reconnect', tone: 'warn' },
};

/** How new mail reaches Mailroom right now (live, polling, waiting to reconnect); nothing when nothing listens. */
export function ListeningBadge({ c }: { c: Pick<Connection, 'listening' | 'listeningSince'> }) {
  if (!c.listening) return null;
  const w = LISTENING_WORDS[c.listening];
  const since = c.listeningSince ? formatDateTime(c.listeningSince) : '';
  const label = c.listening === 'waiting' && since ? `${w.label} (since ${since})` : w.label;
  return (
    <span className="listening" data-listening={c.listening} title={since ? `Since ${since}` : undefined}>
      <Badge tone={w.tone}>{label}</Badge>
    </span>
  );
}

const PLAIN_ERRORS: Record<string, string> = {
  imap_authentication_failed:
    'The incoming mail server no longer accepts the password. It may have been changed, or the provider needs an app password. Enter the current password to reconnect.',
  smtp_authentication_failed: 'The outgoing mail server no longer accepts the password. Enter the current password to reconnect.',
  imap_settings_incorrect: 'Mailroom cannot reach the incoming mail server. Check the server name, port and security setting.',
  smtp_settings_incorrect: 'Mailroom cannot reach the outgoing mail server. Check the server name, port and security setting.',
  oauth_reauth_required: "The provider no longer accepts Mailroom's sign-in for this mailbox (revoked, password changed, or expired). Reconnect and sign in again.",
  timeout: 'The mail server took too long to answer. Mailroom keeps trying; if it keeps happening, check the server settings.',
};

/** The last error in plain words: the server's own message when it has one, else ours. */
export function plainError(c: Connection): string | null {
  if (!c.lastError) return null;
  return c.lastError.message || PLAIN_ERRORS[c.lastError.code] || 'Something went wrong with this connection. Reconnect it to try again.';
}

/** The fix-it action for a connection in trouble, or null. */
export function fixItLabel(c: Connection): string | null {
  // OAuth (issue 14): the fix is signing in again at the provider.
  if (c.oauthProvider && (c.state === 'needs_reauth' || c.state === 'auth_failed' || c.state === 'error')) return 'Reconnect';
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
