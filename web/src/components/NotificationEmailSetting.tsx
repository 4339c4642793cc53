/** Settings → Email: whether my in-app notifications are also emailed to me (when the server sends notification email). */
import { useState } from 'react';
import { api, errorText } from '../api/client.js';
import { Notice, useLoad } from './ui.js';

export function NotificationEmailSetting({ userId }: { userId: string }) {
  const me = useLoad(() => api.get<{ emailNotifications?: boolean }>(`/users/${encodeURIComponent(userId)}`), [userId]);
  const [error, setError] = useState<string | null>(null);
  const on = me.data?.emailNotifications !== false;
  const change = async (value: boolean) => {
    setError(null);
    const before = me.data;
    me.setData({ ...(before ?? {}), emailNotifications: value }); // shown at once; put back if refused
    try {
      me.setData(await api.patch<{ emailNotifications?: boolean }>(`/users/${encodeURIComponent(userId)}`, { emailNotifications: value }));
    } catch (err) {
      me.setData(before);
      setError(errorText(err));
    }
  };
  return (
    <section className="card" aria-labelledby="notification-email-title">
      <h2 id="notification-email-title">Notification email</h2>
      <label>
        <input type="checkbox" checked={on} disabled={!me.data} onChange={(e) => void change(e.target.checked)} /> Email me my notifications (assignments, mentions, snoozes ending, disconnected addresses), at most one digest a minute
      </label>
      <p className="muted small">Sent to your sign-in address when your administrator has set up notification email; otherwise you see them in Mailroom only.</p>
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}
