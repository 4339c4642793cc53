/**
 * Undo send (issue 21): after a reply or an email is sent, it waits for the user's undo delay before it
 * leaves. This bar shows "Sending… Undo" with the seconds left; Undo calls back (the caller stops the send
 * and puts the draft back), and when the time is up the bar goes away.
 */
import { useEffect, useState } from 'react';

export function UndoSendBar({ until, onUndo, onDone, busy }: { until: string; onUndo: () => void; onDone: () => void; busy?: boolean }) {
  const end = Date.parse(until);
  const [left, setLeft] = useState(() => Math.max(0, Math.ceil((end - Date.now()) / 1000)));
  useEffect(() => {
    const tick = () => {
      const s = Math.max(0, Math.ceil((end - Date.now()) / 1000));
      setLeft(s);
      if (s <= 0) onDone();
    };
    const timer = setInterval(tick, 250);
    return () => clearInterval(timer);
  }, [end, onDone]);
  return (
    <div className="undo-send" role="status" data-testid="undo-send" style={{ display: 'flex', gap: 8, alignItems: 'center', marginTop: 8 }}>
      <span>Sending… ({left} s)</span>
      <button type="button" className="btn btn-small" onClick={onUndo} disabled={busy || left <= 0}>
        Undo
      </button>
    </div>
  );
}
