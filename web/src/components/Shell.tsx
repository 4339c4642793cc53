import { useEffect, useRef, useState } from 'react';
import { Link, match, navigate, useLocation } from '../router.js';
import { useSession } from '../session.js';
import { setAvailability } from '../api/session.js';
import { errorText } from '../api/client.js';
import { SEAT_LABEL, canManageInboxes, isAdmin } from '../lib/format.js';
import { InboxPage } from '../pages/Inbox.js';
import { ContactsPage } from '../pages/Contacts.js';
import { ContactPage } from '../pages/Contact.js';
import { SettingsEmailPage } from '../pages/SettingsEmail.js';
import { SettingsInboxesPage } from '../pages/SettingsInboxes.js';
import { SettingsUsersPage } from '../pages/SettingsUsers.js';
import { SettingsWebhooksPage } from '../pages/SettingsWebhooks.js';
import { SettingsMeetingsPage } from '../pages/SettingsMeetings.js';
import { SequencesPage } from '../pages/Sequences.js';
import { EmptyState, Notice, PageTitle } from './ui.js';
import { ReconnectBanner } from './ReconnectBanner.js';

function AvailabilityToggle() {
  const { session, setUser } = useSession();
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const available = session.user.availability === 'available';
  const toggle = async () => {
    setBusy(true);
    setError(null);
    try {
      setUser(await setAvailability(session.user.id, available ? 'away' : 'available'));
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button
        type="button"
        className={`availability ${available ? 'is-available' : 'is-away'}`}
        role="switch"
        aria-checked={available}
        onClick={toggle}
        disabled={busy}
        title={error ?? (available ? 'You receive new conversations. Click to go away.' : 'You are away: routing skips you. Click to become available.')}
      >
        <span className="availability-dot" aria-hidden="true" />
        {available ? 'Available' : 'Away'}
      </button>
      {error && (
        <span className="sr-only" role="alert">
          {error}
        </span>
      )}
    </>
  );
}

function UserMenu() {
  const { session, signOut } = useSession();
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!open) return;
    const close = (e: MouseEvent) => {
      if (ref.current && !ref.current.contains(e.target as Node)) setOpen(false);
    };
    const esc = (e: KeyboardEvent) => e.key === 'Escape' && setOpen(false);
    document.addEventListener('mousedown', close);
    document.addEventListener('keydown', esc);
    return () => {
      document.removeEventListener('mousedown', close);
      document.removeEventListener('keydown', esc);
    };
  }, [open]);
  const initials = session.user.name
    .split(/\s+/)
    .map((p) => p[0] ?? '')
    .join('')
    .slice(0, 2)
    .toUpperCase();
  return (
    <div className="user-menu" ref={ref}>
      <button type="button" className="user-button" aria-haspopup="true" aria-expanded={open} onClick={() => setOpen((o) => !o)}>
        <span className="avatar" aria-hidden="true">
          {initials}
        </span>
        <span className="user-name">{session.user.name}</span>
      </button>
      {open && (
        <div className="user-popover">
          <div className="user-popover-head">
            <strong>{session.user.name}</strong>
            <span>{session.user.email}</span>
            <span>
              {SEAT_LABEL[session.user.seat] ?? session.user.seat} · {session.account.name}
            </span>
          </div>
          <button type="button" className="btn btn-block" onClick={() => void signOut()}>
            Sign out
          </button>
        </div>
      )}
    </div>
  );
}

type SessionUser = ReturnType<typeof useSession>['session']['user'];
const adminsOnly = (u: SessionUser) => isAdmin(u.role);

/** Who sees each settings page: what the API lets them change there (Inboxes: account access, not the role). */
const SETTINGS: Array<{ to: string; label: string; allowed: (u: SessionUser) => boolean }> = [
  { to: '/settings/email', label: 'Email', allowed: () => true },
  { to: '/settings/meetings', label: 'Meetings', allowed: () => true },
  { to: '/settings/inboxes', label: 'Inboxes', allowed: canManageInboxes },
  { to: '/settings/users', label: 'Users', allowed: adminsOnly },
  { to: '/settings/webhooks', label: 'Webhooks', allowed: adminsOnly },
];

function SettingsLayout({ children, current }: { children: React.ReactNode; current: string }) {
  const { session } = useSession();
  return (
    <div className="settings">
      <nav className="settings-nav" aria-label="Settings">
        <h2 className="settings-nav-title">Settings</h2>
        <ul>
          {SETTINGS.filter((s) => s.allowed(session.user)).map((s) => (
            <li key={s.to}>
              <Link to={s.to} aria-current={current === s.to ? 'page' : undefined}>
                {s.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="settings-body">{children}</div>
    </div>
  );
}

function AdminOnly({ children }: { children: React.ReactNode }) {
  const { session } = useSession();
  if (isAdmin(session.user.role)) return <>{children}</>;
  return <Notice kind="info" title="Admins only">Ask an admin of your account to make changes here.</Notice>;
}

/** Settings → Inboxes: for whoever the API lets change inboxes (the account-access permission). */
function AccountAccessOnly({ children }: { children: React.ReactNode }) {
  const { session } = useSession();
  if (canManageInboxes(session.user)) return <>{children}</>;
  return (
    <Notice kind="info" title="Account access needed">
      Changing inboxes, team email and routing needs the account-access permission. Ask an admin of your account to give it to you in Settings → Users.
    </Notice>
  );
}

function Routes() {
  const { path } = useLocation();
  let m: Record<string, string> | null;
  if (path === '/' || path === '/inbox') return <InboxPage view="open" />;
  if ((m = match('/inbox/:view', path))) return <InboxPage view={m.view as never} />;
  if (path === '/contacts') return <ContactsPage />;
  if ((m = match('/contacts/:id', path))) return <ContactPage id={m.id!} />;
  if (path === '/sequences') return <SequencesPage />;
  if (path === '/settings' || path === '/settings/email')
    return (
      <SettingsLayout current="/settings/email">
        <SettingsEmailPage />
      </SettingsLayout>
    );
  if (path === '/settings/meetings')
    return (
      <SettingsLayout current={path}>
        <SettingsMeetingsPage />
      </SettingsLayout>
    );
  if (path === '/settings/inboxes')
    return (
      <SettingsLayout current={path}>
        <AccountAccessOnly>
          <SettingsInboxesPage />
        </AccountAccessOnly>
      </SettingsLayout>
    );
  if (path === '/settings/users')
    return (
      <SettingsLayout current={path}>
        <AdminOnly>
          <SettingsUsersPage />
        </AdminOnly>
      </SettingsLayout>
    );
  if (path === '/settings/webhooks')
    return (
      <SettingsLayout current={path}>
        <AdminOnly>
          <SettingsWebhooksPage />
        </AdminOnly>
      </SettingsLayout>
    );
  return (
    <div className="page">
      <PageTitle>Page not found</PageTitle>
      <EmptyState title="This page does not exist">
        <p>
          <Link to="/inbox">Go to the inbox</Link>
        </p>
      </EmptyState>
    </div>
  );
}

const NAV = [
  { to: '/inbox', label: 'Inbox', section: '/inbox' },
  { to: '/contacts', label: 'Contacts', section: '/contacts' },
  { to: '/sequences', label: 'Sequences', section: '/sequences' },
  { to: '/settings/email', label: 'Settings', section: '/settings' },
];

export function Shell() {
  const { session } = useSession();
  const { path } = useLocation();
  const section = path === '/' ? '/inbox' : '/' + (path.split('/')[1] ?? '');
  const previousPath = useRef(path);

  // After navigation to another page, move focus to its heading (not on first load).
  useEffect(() => {
    if (previousPath.current === path) return;
    previousPath.current = path;
    const h = document.querySelector<HTMLElement>('[data-page-title]');
    h?.focus({ preventScroll: false });
  }, [path]);

  useEffect(() => {
    if (path === '/') navigate('/inbox', { replace: true });
  }, [path]);

  return (
    <div className="app">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="topbar">
        <Link to="/inbox" className="brand" aria-label="Mailroom, go to inbox">
          <span className="brand-mark" aria-hidden="true">
            ✉
          </span>
          <span className="brand-name">Mailroom</span>
        </Link>
        <nav className="mainnav" aria-label="Main">
          <ul>
            {NAV.map((n) => (
              <li key={n.to}>
                <Link to={n.to} aria-current={section === n.section ? 'page' : undefined}>
                  {n.label}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
        <div className="topbar-right">
          <span className="seat-badge" title="Your seat">
            {SEAT_LABEL[session.user.seat] ?? session.user.seat}
          </span>
          <AvailabilityToggle />
          <UserMenu />
        </div>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        <ReconnectBanner path={path} />
        <Routes />
      </main>
    </div>
  );
}
