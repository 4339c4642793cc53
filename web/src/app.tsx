import { useCallback, useEffect, useState } from 'react';
import { currentSession, signOut as apiSignOut } from './api/session.js';
import { onSignedOut, errorText } from './api/client.js';
import type { Session, User } from './api/types.js';
import { SessionContext } from './session.js';
import { SignInPage } from './pages/SignIn.js';
import { Shell } from './components/Shell.js';
import { Spinner, Notice } from './components/ui.js';
import { BookingPage, ManageBookingPage } from './pages/Booking.js';
import { match, useLocation } from './router.js';

/** Public pages (no sign-in, no session request): a booking page and a booking's manage link. */
export function App() {
  const { path } = useLocation();
  const manage = match('/meet/manage/:token', path);
  if (manage) return <ManageBookingPage token={manage.token!} />;
  const booking = match('/meet/:slug', path);
  if (booking) return <BookingPage slug={booking.slug!} />;
  return <SignedInApp />;
}

function SignedInApp() {
  const [session, setSession] = useState<Session | null | undefined>(undefined);
  const [loadError, setLoadError] = useState<string | null>(null);

  useEffect(() => {
    currentSession().then(setSession, (e) => {
      setLoadError(errorText(e));
      setSession(null);
    });
    return onSignedOut(() => setSession(null));
  }, []);

  const setUser = useCallback((user: User) => setSession((s) => (s ? { ...s, user } : s)), []);
  const signOut = useCallback(async () => {
    try {
      await apiSignOut();
    } finally {
      setSession(null);
    }
  }, []);

  if (session === undefined) {
    return (
      <main className="center-page">
        <Spinner label="Opening Mailroom…" />
      </main>
    );
  }
  if (session === null) {
    return (
      <>
        {loadError && <Notice kind="error">{loadError}</Notice>}
        <SignInPage onSignedIn={setSession} />
      </>
    );
  }
  return (
    <SessionContext.Provider value={{ session, setUser, signOut }}>
      <Shell />
    </SessionContext.Provider>
  );
}
