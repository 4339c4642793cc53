import { useEffect, useId, useMemo, useRef, useState, type FormEvent } from 'react';
import { ApiError, errorText } from '../api/client.js';
import { connectEmail, disconnectEmail } from '../api/connections.js';
import type { ConnectInput, Connection, TlsMode } from '../api/types.js';
import { DEFAULT_PORTS, domainOf, guessFor, providerFor, type ServerPreset } from '../lib/providers.js';
import { useSession } from '../session.js';
import { isAdmin } from '../lib/format.js';
import { RefusalPanel } from './Refusal.js';
import { Field, Notice } from './ui.js';
import { OAuthButtons } from './OAuthConnect.js';

interface ServerFields {
  host: string;
  port: string;
  tls: TlsMode;
  username: string;
}

const fromPreset = (p: ServerPreset, username: string): ServerFields => ({ host: p.host, port: String(p.port), tls: p.tls, username });

function ServerFieldset({
  legend,
  value,
  onChange,
  kind,
  idPrefix,
  invalidField,
}: {
  legend: string;
  value: ServerFields;
  onChange: (v: ServerFields) => void;
  kind: 'imap' | 'smtp';
  idPrefix: string;
  invalidField: string | null;
}) {
  const set = (patch: Partial<ServerFields>) => onChange({ ...value, ...patch });
  return (
    <fieldset className="server-fieldset">
      <legend>{legend}</legend>
      <div className="grid-3">
        <Field label="Server" id={`${idPrefix}-${kind}-host`} error={invalidField === `${kind}.host` ? 'Check this server name.' : null}>
          <input id={`${idPrefix}-${kind}-host`} required value={value.host} onChange={(e) => set({ host: e.target.value.trim() })} autoComplete="off" spellCheck={false} />
        </Field>
        <Field label="Port" id={`${idPrefix}-${kind}-port`}>
          <input id={`${idPrefix}-${kind}-port`} required inputMode="numeric" pattern="[0-9]{1,5}" value={value.port} onChange={(e) => set({ port: e.target.value })} />
        </Field>
        <Field label="Security" id={`${idPrefix}-${kind}-tls`}>
          <select
            id={`${idPrefix}-${kind}-tls`}
            value={value.tls}
            onChange={(e) => {
              const tls = e.target.value as TlsMode;
              set({ tls, port: String(DEFAULT_PORTS[tls][kind]) });
            }}
          >
            <option value="tls">SSL/TLS</option>
            <option value="starttls">STARTTLS</option>
            <option value="none">None (unencrypted)</option>
          </select>
        </Field>
      </div>
      <Field label="Username" id={`${idPrefix}-${kind}-username`} hint="Usually your full email address.">
        <input id={`${idPrefix}-${kind}-username`} value={value.username} onChange={(e) => set({ username: e.target.value })} autoComplete="off" spellCheck={false} />
      </Field>
    </fieldset>
  );
}

export interface ConnectFormProps {
  type: 'personal' | 'team';
  inboxId?: string;
  /** Team email may arrive by forwarding instead of IMAP. */
  allowForwarding?: boolean;
  /** Pre-fill for a reconnect (fix-it): the address and server settings, never the password. */
  initial?: Connection;
  /** A reconnect disconnects the old connection first (everything logged stays). */
  replaces?: Connection;
  submitLabel?: string;
  onConnected: (c: Connection) => void;
  onCancel?: () => void;
}

/**
 * Connects an address. Address and password come first; the server settings are filled in from
 * the domain for well-known providers and otherwise asked under "Advanced".
 */
export function ConnectForm({ type, inboxId, allowForwarding, initial, replaces, submitLabel, onConnected, onCancel }: ConnectFormProps) {
  const { session } = useSession();
  const id = useId().replace(/:/g, '');
  const [address, setAddress] = useState(initial?.address ?? '');
  const [password, setPassword] = useState('');
  const [smtpPassword, setSmtpPassword] = useState('');
  const [separateSmtpPassword, setSeparateSmtpPassword] = useState(false);
  const [transport, setTransport] = useState<'imap' | 'forwarding'>(initial?.transport ?? 'imap');
  const [useForMeetings, setUseForMeetings] = useState(false);
  const [touched, setTouched] = useState(Boolean(initial));
  const [imap, setImap] = useState<ServerFields>(() =>
    initial?.imap ? { host: initial.imap.host, port: String(initial.imap.port), tls: initial.imap.tls as TlsMode, username: initial.imap.username } : fromPreset(guessFor('').imap, ''),
  );
  const [smtp, setSmtp] = useState<ServerFields>(() =>
    initial?.smtp ? { host: initial.smtp.host, port: String(initial.smtp.port), tls: initial.smtp.tls as TlsMode, username: initial.smtp.username } : fromPreset(guessFor('').smtp, ''),
  );
  const [advancedOpen, setAdvancedOpen] = useState(false);
  const advancedRef = useRef<HTMLDetailsElement>(null);
  // Opening "Advanced" by itself also sets the element: a toggle event still pending from an earlier click
  // (input is handled before it) would otherwise read the old state and close it again.
  const openAdvanced = () => {
    setAdvancedOpen(true);
    if (advancedRef.current) advancedRef.current.open = true;
  };
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | Error | null>(null);
  const [replaced, setReplaced] = useState(false);

  const provider = useMemo(() => providerFor(address), [address]);
  const domain = domainOf(address);
  const knownDomain = Boolean(provider);
  const domainLooksComplete = /^[^@\s]+@[^@\s]+\.[a-z]{2,}$/i.test(address.trim());

  // Fill the server settings from the domain until the person edits them by hand.
  useEffect(() => {
    if (touched) return;
    const a = address.trim();
    const p = providerFor(a);
    const g = p ?? guessFor(a);
    setImap(fromPreset(g.imap, a));
    setSmtp(fromPreset(g.smtp, a));
  }, [address, touched]);

  // Unknown domains need the settings: open "Advanced" for them.
  useEffect(() => {
    if (domainLooksComplete && !knownDomain) openAdvanced();
  }, [domainLooksComplete, knownDomain]);

  const invalidField = error instanceof ApiError && typeof error.details.field === 'string' ? error.details.field : null;
  useEffect(() => {
    if (invalidField && /^(imap|smtp)\.(host|port|tls|username)/.test(invalidField)) openAdvanced();
  }, [invalidField]);

  const buildInput = (): ConnectInput => {
    const a = address.trim();
    const server = (f: ServerFields, pw: string) => ({ host: f.host.trim(), port: Number(f.port), tls: f.tls, username: f.username.trim() || a, password: pw });
    const smtpPw = separateSmtpPassword ? smtpPassword : password;
    const input: ConnectInput = { type, address: a, transport, smtp: server(smtp, smtpPw) };
    if (transport === 'imap') input.imap = server(imap, password);
    if (type === 'team' && inboxId) input.inboxId = inboxId;
    if (type === 'personal' && useForMeetings) input.useForMeetings = true;
    return input;
  };

  const connect = async () => {
    setBusy(true);
    setError(null);
    try {
      if (replaces && !replaced) {
        await disconnectEmail(replaces.id);
        setReplaced(true);
      }
      const c = await connectEmail(buildInput());
      setPassword('');
      setSmtpPassword('');
      onConnected(c);
    } catch (e) {
      setError(e instanceof Error ? e : new Error(errorText(e)));
    } finally {
      setBusy(false);
    }
  };

  const submit = (e: FormEvent) => {
    e.preventDefault();
    void connect();
  };

  const refusal = error instanceof ApiError && error.code === 'address_in_use' ? error : null;
  const passwordLabel = transport === 'forwarding' ? 'SMTP password (for sending replies)' : 'Password';

  return (
    <>
      {!initial && !replaces && transport === 'imap' && <OAuthButtons type={type} {...(inboxId ? { inboxId } : {})} onConnected={onConnected} />}
      <form className="connect-form" onSubmit={submit} aria-label={type === 'personal' ? 'Connect personal email' : 'Connect team email'} noValidate={false}>
      {replaces && (
        <Notice kind="info">
          Reconnecting {replaces.address}: Mailroom disconnects the old connection (everything already logged stays) and connects again with
          these settings.
        </Notice>
      )}
      {type === 'team' && allowForwarding && (
        <fieldset className="radio-row">
          <legend>How does mail reach Mailroom?</legend>
          <label>
            <input type="radio" name={`${id}-transport`} value="imap" checked={transport === 'imap'} onChange={() => setTransport('imap')} /> Mailroom reads the
            mailbox (IMAP)
          </label>
          <label>
            <input type="radio" name={`${id}-transport`} value="forwarding" checked={transport === 'forwarding'} onChange={() => setTransport('forwarding')} />{' '}
            The mail server forwards to Mailroom
          </label>
        </fieldset>
      )}
      <div className="grid-2">
        <Field label="Email address" id={`${id}-address`} error={invalidField === 'address' ? 'Check this address.' : null}>
          <input
            id={`${id}-address`}
            type="email"
            required
            autoComplete="off"
            spellCheck={false}
            value={address}
            readOnly={Boolean(replaces)}
            onChange={(e) => setAddress(e.target.value)}
            placeholder={type === 'team' ? 'support@yourcompany.com' : 'you@yourcompany.com'}
          />
        </Field>
        <Field
          label={passwordLabel}
          id={`${id}-password`}
          hint={provider?.hint}
          error={invalidField === 'imap.password' || (invalidField === 'smtp.password' && !separateSmtpPassword) ? 'The server refused this password.' : null}
        >
          <input id={`${id}-password`} type="password" required autoComplete="new-password" value={password} onChange={(e) => setPassword(e.target.value)} />
        </Field>
      </div>
      {provider && (
        <p className="provider-note">
          <span className="badge badge-info">{provider.name}</span> Server settings for {domain} are filled in for you.
        </p>
      )}
      {type === 'personal' && (
        <label className="checkbox">
          <input type="checkbox" checked={useForMeetings} onChange={(e) => setUseForMeetings(e.target.checked)} /> Use this address for meetings
        </label>
      )}
      <details className="advanced" ref={advancedRef} open={advancedOpen} onToggle={(e) => setAdvancedOpen((e.target as HTMLDetailsElement).open)}>
        <summary>Advanced: server settings{!knownDomain && domainLooksComplete ? ' (needed for ' + domain + ')' : ''}</summary>
        <div
          className="advanced-body"
          onChange={() => {
            if (!touched) setTouched(true);
          }}
        >
          {transport === 'imap' && (
            <ServerFieldset legend="Incoming mail (IMAP)" kind="imap" idPrefix={id} value={imap} onChange={setImap} invalidField={invalidField} />
          )}
          <ServerFieldset
            legend={transport === 'imap' ? 'Outgoing mail (SMTP)' : 'Outgoing mail (SMTP), for sending replies'}
            kind="smtp"
            idPrefix={id}
            value={smtp}
            onChange={setSmtp}
            invalidField={invalidField}
          />
          {transport === 'imap' && (
            <label className="checkbox">
              <input type="checkbox" checked={separateSmtpPassword} onChange={(e) => setSeparateSmtpPassword(e.target.checked)} /> The outgoing server uses a
              different password
            </label>
          )}
          {separateSmtpPassword && transport === 'imap' && (
            <Field label="SMTP password" id={`${id}-smtp-password`} error={invalidField === 'smtp.password' ? 'The server refused this password.' : null}>
              <input id={`${id}-smtp-password`} type="password" autoComplete="new-password" value={smtpPassword} onChange={(e) => setSmtpPassword(e.target.value)} />
            </Field>
          )}
        </div>
      </details>

      {refusal ? (
        <RefusalPanel
          error={refusal}
          meId={session.user.id}
          admin={isAdmin(session.user.role)}
          onReleased={connect}
          onTransferred={type === 'personal' ? (c) => onConnected(c) : undefined}
        />
      ) : (
        error && (
          <Notice kind="error" title={error instanceof ApiError ? connectErrorTitle(error.code) : 'Could not connect'}>
            {error.message}
          </Notice>
        )
      )}

      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? 'Checking the servers…' : (submitLabel ?? 'Connect')}
        </button>
        {onCancel && (
          <button type="button" className="btn" onClick={onCancel} disabled={busy}>
            Cancel
          </button>
        )}
      </div>
      </form>
    </>
  );
}

export function connectErrorTitle(code: string): string {
  switch (code) {
    case 'imap_authentication_failed':
      return 'The incoming mail server refused the password';
    case 'smtp_authentication_failed':
      return 'The outgoing mail server refused the password';
    case 'imap_settings_incorrect':
      return 'The incoming mail server could not be reached';
    case 'smtp_settings_incorrect':
      return 'The outgoing mail server could not be reached';
    case 'plan_limit_reached':
      return "Your plan's limit is reached";
    case 'permission_denied':
      return 'You are not allowed to do this';
    case 'team_address_not_allowed_for_meetings':
      return 'Team email cannot be used for meetings';
    case 'invalid_request':
      return 'Something in the form needs fixing';
    case 'oauth_address_mismatch':
      return 'You signed in with another address';
    case 'oauth_state_invalid':
      return 'This sign-in is no longer valid';
    default:
      return 'Could not connect';
  }
}
