import { useState, type FormEvent } from 'react';
import { signIn } from '../api/session.js';
import { ApiError, errorText } from '../api/client.js';
import { formatDateTime } from '../lib/format.js';
import type { Session } from '../api/types.js';
import { Field, Notice } from '../components/ui.js';

export function SignInPage({ onSignedIn }: { onSignedIn: (s: Session) => void }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [locked, setLocked] = useState<{ until: string; temporary: boolean } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    setLocked(null);
    try {
      onSignedIn(await signIn(email.trim(), password));
    } catch (err) {
      setError(errorText(err));
      // Sign-in protection: the time the wait or lock lifts, in the reader's own time.
      if (err instanceof ApiError && (err.code === 'sign_in_locked' || err.code === 'sign_in_delayed') && typeof err.details.retryAt === 'string') {
        setLocked({ until: err.details.retryAt, temporary: err.code === 'sign_in_locked' });
      }
      setBusy(false);
    }
  };

  return (
    <main className="signin">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div className="brand brand-large" aria-hidden="true">
          <span className="brand-mark">✉</span> Mailroom
        </div>
        <h1 id="signin-title">Sign in</h1>
        {error && locked?.temporary ? (
          <Notice kind="error" title={`Signing in as this address is paused until ${formatDateTime(locked.until)}`}>
            {error}
          </Notice>
        ) : (
          error && <Notice kind="error">{error}</Notice>
        )}
        <Field label="Email" id="signin-email">
          <input id="signin-email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.target.value)} autoFocus />
        </Field>
        <Field label="Password" id="signin-password">
          <input id="signin-password" type="password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
        <button className="btn btn-primary btn-block" type="submit" disabled={busy}>
          {busy ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
    </main>
  );
}
