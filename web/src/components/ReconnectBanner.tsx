/**
 * The reconnect banner: on every page, each OAuth mailbox the user can fix whose provider no longer accepts
 * Mailroom's sign-in (revoked, password changed, refresh token expired) is named, with its inbox for team
 * email, and its one-click "Reconnect with <provider>" (same connection, history and sync checkpoint).
 * Personal mailboxes of the user; team mailboxes for admins.
 */
import { useEffect, useState } from 'react';
import { listConnections } from '../api/connections.js';
import type { Connection } from '../api/types.js';
import { isAdmin } from '../lib/format.js';
import { useSession } from '../session.js';
import { OAuthButtons } from './OAuthConnect.js';
import { Notice } from './ui.js';

// needs_reauth: the provider refused the refresh token (auth_failed: rows from before the state existed).
const needsSignIn = (c: Connection) => Boolean(c.oauthProvider) && (c.state === 'needs_reauth' || c.state === 'auth_failed');

export function ReconnectBanner({ path }: { path: string }) {
  const { session } = useSession();
  const [broken, setBroken] = useState<Connection[]>([]);
  const [round, setRound] = useState(0);
  const admin = isAdmin(session.user.role);

  // Looked at again on each page change (and after a reconnect); a failure to look shows nothing.
  // biome-ignore lint/correctness/useExhaustiveDependencies: path and round are the triggers
  useEffect(() => {
    let live = true;
    const mine = listConnections({ type: 'personal', userId: session.user.id }).catch(() => [] as Connection[]);
    const team = admin ? listConnections({ type: 'team' }).catch(() => [] as Connection[]) : Promise.resolve([] as Connection[]);
    void Promise.all([mine, team]).then(([a, b]) => {
      if (live) setBroken([...a, ...b].filter(needsSignIn));
    });
    return () => {
      live = false;
    };
  }, [path, round, session.user.id, admin]);

  if (broken.length === 0) return null;
  return (
    <div className="reconnect-banner stack" data-testid="reconnect-banner">
      {broken.map((c) => (
        <Notice key={c.id} kind="warning" title={`Mailroom can no longer read ${c.address}${c.type === 'team' && c.inboxName ? ` (inbox ${c.inboxName})` : ''}`}>
          <p>{c.lastError?.message || 'The provider no longer accepts Mailroom\'s sign-in for this mailbox. Sign in again to resume; nothing already logged is lost.'}</p>
          <OAuthButtons type={c.type} connection={c} onConnected={() => setRound((r) => r + 1)} />
        </Notice>
      ))}
    </div>
  );
}
