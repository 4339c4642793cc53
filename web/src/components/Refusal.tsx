import { useEffect, useRef, useState } from 'react';
import { ApiError, errorText } from '../api/client.js';
import { releaseConnection, type ReleaseAction } from '../api/connections.js';
import type { Connection, Holder } from '../api/types.js';
import { STATE_LABEL } from '../lib/format.js';
import { Notice } from './ui.js';

interface ReleaseDetails {
  connectionId: string;
  actions: ReleaseAction[];
}

/** Reads `error.holder`, `error.resolution` and `error.details.release` of a refusal. */
export function refusalParts(e: ApiError): { holder: Holder | null; resolution: string | null; release: ReleaseDetails | null } {
  const holder = (e.body.holder as Holder | undefined) ?? null;
  const resolution = typeof e.body.resolution === 'string' ? e.body.resolution : null;
  const details = e.body.details as { release?: ReleaseDetails } | undefined;
  let release = details?.release ?? null;
  if (!release && holder?.connectionId && holder.kind === 'personal' && (holder.userState === 'deactivated' || holder.userState === 'removed')) {
    release = { connectionId: holder.connectionId, actions: ['restore_and_disconnect', 'disconnect'] };
  }
  return { holder, resolution, release };
}

function HolderLine({ holder, meId }: { holder: Holder; meId: string }) {
  if (holder.kind === 'team') {
    return (
      <p className="holder">
        <span className="holder-label">Held by</span> the inbox <strong>{holder.inboxName ?? 'an inbox'}</strong> (team email)
      </p>
    );
  }
  if (holder.userId === meId) {
    return (
      <p className="holder">
        <span className="holder-label">Held by</span> <strong>you</strong> (your personal email)
      </p>
    );
  }
  const state = holder.userState ?? 'active';
  return (
    <p className="holder">
      <span className="holder-label">Held by</span> <strong>{holder.userName ?? 'another user'}</strong> (personal email) ·{' '}
      <span className={`badge badge-${state === 'active' ? 'good' : 'bad'}`}>{STATE_LABEL[state] ?? state}</span>
    </p>
  );
}

/**
 * Explains a refused connect: what holds the address, what to do, and for an address held by a
 * deactivated or removed user, the admin's one-click fix (then the connect is tried again).
 */
export function RefusalPanel({
  error,
  meId,
  admin,
  onReleased,
  onTransferred,
}: {
  error: ApiError;
  meId: string;
  admin: boolean;
  /** Called after the address was freed; the caller connects again. */
  onReleased: () => Promise<void>;
  /** Called after the connection was transferred to `meId`. */
  onTransferred?: (c: Connection) => void;
}) {
  const { holder, resolution, release } = refusalParts(error);
  const [busy, setBusy] = useState<ReleaseAction | null>(null);
  const [failure, setFailure] = useState<string | null>(null);
  const name = holder?.userName ?? 'the user';
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    ref.current?.scrollIntoView({ block: 'nearest' });
  }, [error]);

  const run = async (action: ReleaseAction) => {
    if (!release) return;
    setBusy(action);
    setFailure(null);
    try {
      const c = await releaseConnection(release.connectionId, action, action === 'transfer' ? meId : undefined);
      if (action === 'transfer') onTransferred?.(c);
      else await onReleased();
    } catch (e) {
      setFailure(errorText(e));
    } finally {
      setBusy(null);
    }
  };

  const canRelease = admin && release && holder?.kind === 'personal' && holder.userState !== 'active';
  return (
    <div className="refusal" role="alert" aria-labelledby="refusal-title" ref={ref}>
      <h3 id="refusal-title" className="refusal-title">
        This address is already connected
      </h3>
      <p>{error.message}</p>
      {holder && <HolderLine holder={holder} meId={meId} />}
      {resolution && (
        <p className="resolution">
          <span className="holder-label">What to do</span> {resolution}
        </p>
      )}
      {canRelease && (
        <div className="refusal-actions">
          {release.actions.includes('restore_and_disconnect') && (
            <button type="button" className="btn btn-primary" disabled={busy !== null} onClick={() => run('restore_and_disconnect')}>
              {busy === 'restore_and_disconnect' ? 'Restoring…' : `Restore ${name} and disconnect`}
            </button>
          )}
          {release.actions.includes('disconnect') && (
            <button type="button" className="btn" disabled={busy !== null} onClick={() => run('disconnect')}>
              {busy === 'disconnect' ? 'Disconnecting…' : `Disconnect without restoring ${name}`}
            </button>
          )}
          {release.actions.includes('transfer') && onTransferred && (
            <button type="button" className="btn" disabled={busy !== null} onClick={() => run('transfer')}>
              {busy === 'transfer' ? 'Transferring…' : 'Transfer the connection to me'}
            </button>
          )}
        </div>
      )}
      {failure && <Notice kind="error">{failure}</Notice>}
    </div>
  );
}
