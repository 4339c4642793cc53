/** Settings → Email: undo send, how long my replies and one-to-one emails wait before they leave (0 to 30 s). */
import { useState } from 'react';
import { api, errorText } from '../api/client.js';
import { Notice, useLoad } from './ui.js';

const CHOICES = [0, 5, 10, 20, 30];

export function UndoSendSetting({ userId }: { userId: string }) {
  const me = useLoad(() => api.get<{ undoSendSeconds?: number }>(`/users/${encodeURIComponent(userId)}`), [userId]);
  const [error, setError] = useState<string | null>(null);
  const value = me.data?.undoSendSeconds ?? 10;
  const change = async (seconds: number) => {
    setError(null);
    const before = me.data;
    me.setData({ ...(before ?? {}), undoSendSeconds: seconds }); // shown at once; put back if refused
    try {
      me.setData(await api.patch<{ undoSendSeconds?: number }>(`/users/${encodeURIComponent(userId)}`, { undoSendSeconds: seconds }));
    } catch (err) {
      me.setData(before);
      setError(errorText(err));
    }
  };
  const choices = CHOICES.includes(value) ? CHOICES : [...CHOICES, value].sort((a, b) => a - b);
  return (
    <section className="card" aria-labelledby="undo-send-title">
      <h2 id="undo-send-title">Undo send</h2>
      <label htmlFor="undo-send-seconds">Wait before replies and emails leave, so you can undo them</label>{' '}
      <select id="undo-send-seconds" value={value} disabled={!me.data} onChange={(e) => void change(Number(e.target.value))}>
        {choices.map((s) => (
          <option key={s} value={s}>
            {s === 0 ? 'Send at once (no undo)' : `${s} seconds`}
          </option>
        ))}
      </select>
      <p className="muted small">Scheduled email and sequence steps are not delayed again.</p>
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
