import { useEffect, useId, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import {
  getAccountEmailSettings,
  getLoggingAddress,
  getPreferences,
  updateAccountEmailSettings,
  updatePreferences,
  type AccountEmailSettings,
  type EmailPreferences,
  type LogRule,
  type PreferencesPatch,
} from '../api/preferences.js';
import { DEFAULT_FONT, FONT_FAMILY_IDS, MAX_FONT_PX, MIN_FONT_PX, fontCss, fontLabel, isFontFamilyId, normaliseColor, type DefaultFont } from '../../../src/shared/fonts.js';
import { isAdmin } from '../lib/format.js';
import { useSession } from '../session.js';
import { EntryList } from './EntryList.js';
import { CopyableValue, Notice, Spinner, useLoad } from './ui.js';

/** A toggle saved as soon as it changes; shows the new value at once and the server's refusal if any. */
function SavedSwitch({ label, hint, checked, disabled, onSave }: { label: string; hint?: string; checked: boolean; disabled?: boolean; onSave: (v: boolean) => Promise<void> }) {
  const id = useId().replace(/:/g, '');
  const [pending, setPending] = useState<boolean | null>(null);
  const [error, setError] = useState<string | null>(null);
  const change = async (v: boolean) => {
    if (pending !== null) return;
    setPending(v);
    setError(null);
    try {
      await onSave(v);
    } catch (e) {
      setError(errorText(e));
    } finally {
      setPending(null);
    }
  };
  return (
    <div className="pref">
      <label className="switch">
        <input type="checkbox" checked={pending ?? checked} disabled={disabled} aria-busy={pending !== null || undefined} onChange={(e) => change(e.target.checked)} aria-describedby={hint ? `${id}-hint` : undefined} />
        <span>{label}</span>
      </label>
      {hint && (
        <div className="hint" id={`${id}-hint`}>
          {hint}
        </div>
      )}
      {error && (
        <div className="field-error" role="alert">
          {error}
        </div>
      )}
    </div>
  );
}

function LoggingDefaults({ prefs, save }: { prefs: EmailPreferences; save: (p: PreferencesPatch) => Promise<void> }) {
  return (
    <section className="card stack" aria-labelledby="prefs-logging">
      <h2 id="prefs-logging">Logging and tracking</h2>
      <p className="muted small">Your defaults for email you send from Mailroom. You can change them for each email when you write it.</p>
      <SavedSwitch label="Log my email on contacts' timelines" hint="Email you send and the replies to it appear on the contact's timeline." checked={prefs.log} onSave={(v) => save({ log: v })} />
      <SavedSwitch
        label="Track opens"
        hint={prefs.trackingAvailable ? 'Adds an invisible image; opens by mail scanners and privacy proxies are not counted.' : 'Tracking is not included in your plan.'}
        checked={prefs.trackOpens}
        disabled={!prefs.trackingAvailable}
        onSave={(v) => save({ trackOpens: v })}
      />
      <SavedSwitch
        label="Track clicks"
        hint={prefs.trackingAvailable ? 'Links go through Mailroom so clicks are counted; they always lead to the page you linked.' : 'Tracking is not included in your plan.'}
        checked={prefs.trackClicks}
        disabled={!prefs.trackingAvailable}
        onSave={(v) => save({ trackClicks: v })}
      />
    </section>
  );
}

const RULES: Array<{ id: LogRule; label: string; hint: string }> = [
  { id: 'replies_only', label: 'Log replies only', hint: 'Email sent from Mailroom (or BCC’d to a logging address) and the replies to it.' },
  { id: 'all_known_contacts', label: 'Log all email with known contacts', hint: 'Also email people send and receive in their own mail app with existing contacts.' },
];

function AccountRule() {
  const { data, error, setData } = useLoad(getAccountEmailSettings, []);
  const [saveError, setSaveError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const save = async (patch: Partial<AccountEmailSettings>) => {
    // Controls stay enabled while saving (disabling them would drop the keyboard focus); one change at a time.
    if (busy) return;
    const before = data;
    setBusy(true);
    setSaveError(null);
    // Shown at once; settled (or put back) when the server answers.
    setData((d) => (d ? { ...d, ...patch } : d));
    try {
      setData(await updateAccountEmailSettings(patch));
    } catch (e) {
      setData(before);
      setSaveError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <section className="card stack" aria-labelledby="prefs-account">
      <h2 id="prefs-account">
        Account logging rule <span className="badge badge-info">Admins</span>
      </h2>
      {error ? <Notice kind="error">{errorText(error)}</Notice> : null}
      {!data && !error && <Spinner />}
      {data && (
        <>
          <fieldset>
            <legend>What is logged for everyone in the account</legend>
            {RULES.map((r) => (
              <label key={r.id} className="radio radio-hinted">
                <input type="radio" name="log-rule" value={r.id} checked={data.logRule === r.id} onChange={() => save({ logRule: r.id })} />
                <span>
                  {r.label}
                  <span className="hint">{r.hint}</span>
                </span>
              </label>
            ))}
          </fieldset>
          <label className="switch">
            <input type="checkbox" checked={data.createContacts} onChange={(e) => save({ createContacts: e.target.checked })} />
            <span>Create contacts from logged mail (for recipients who are not contacts yet)</span>
          </label>
          {saveError && <Notice kind="error">{saveError}</Notice>}
          <h3 id="account-never-log">Never log, for the whole account</h3>
          <EntryList
            listLabel="Account never-log list"
            inputLabel="Add an address or domain for the account"
            placeholder="partner.com or ann@partner.com"
            hint="Mail with these addresses or domains (and their subdomains) is never logged and never creates contacts, for anyone."
            empty="Nothing is excluded for the account yet."
            entries={data.neverLog.map((v) => ({ key: v, label: v }))}
            onAdd={async (v) => setData(await updateAccountEmailSettings({ neverLog: [...data.neverLog, v] }))}
            onRemove={async (k) => setData(await updateAccountEmailSettings({ neverLog: data.neverLog.filter((x) => x !== k) }))}
          />
        </>
      )}
    </section>
  );
}

function FontSettings({ prefs, onSaved }: { prefs: EmailPreferences; onSaved: (p: EmailPreferences) => void }) {
  const initial = prefs.font ?? DEFAULT_FONT;
  const [family, setFamily] = useState<string>(initial.family);
  const [size, setSize] = useState(String(initial.sizePx));
  const [color, setColor] = useState(initial.color);
  const [state, setState] = useState<{ busy: boolean; error: string | null; saved: boolean }>({ busy: false, error: null, saved: false });
  const families: string[] = prefs.fontFamilies.length ? prefs.fontFamilies : FONT_FAMILY_IDS;
  const sizePx = Number(size);
  const sizeOk = Number.isInteger(sizePx) && sizePx >= MIN_FONT_PX && sizePx <= MAX_FONT_PX;
  const hex = normaliseColor(color);

  const submit = async (font: DefaultFont | null) => {
    setState({ busy: true, error: null, saved: false });
    try {
      const p = await updatePreferences({ font });
      onSaved(p);
      if (!font) {
        setFamily(DEFAULT_FONT.family);
        setSize(String(DEFAULT_FONT.sizePx));
        setColor(DEFAULT_FONT.color);
      }
      setState({ busy: false, error: null, saved: true });
    } catch (e) {
      setState({ busy: false, error: errorText(e), saved: false });
    }
  };
  const save = (e: FormEvent) => {
    e.preventDefault();
    if (!sizeOk || !hex || !isFontFamilyId(family)) return;
    void submit({ family, sizePx, color: hex });
  };

  return (
    <form className="card stack" aria-labelledby="prefs-font" onSubmit={save}>
      <h2 id="prefs-font">Default font</h2>
      <p className="muted small">
        Every email you send from Mailroom uses it, written into the email so it survives Gmail and Outlook.{' '}
        {prefs.font ? `Now: ${fontLabel(prefs.font.family)}, ${prefs.font.sizePx} px, ${prefs.font.color}.` : 'Now: none (the recipient’s mail app decides).'}
      </p>
      <div className="grid-3">
        <div className="field">
          <label htmlFor="font-family">Font</label>
          <select id="font-family" value={family} onChange={(e) => setFamily(e.target.value)}>
            {families.map((f) => (
              <option key={f} value={f} style={{ fontFamily: fontCss(f) }}>
                {fontLabel(f)}
              </option>
            ))}
          </select>
        </div>
        <div className={`field${sizeOk ? '' : ' field-invalid'}`}>
          <label htmlFor="font-size">Size (px)</label>
          <input id="font-size" type="number" inputMode="numeric" min={MIN_FONT_PX} max={MAX_FONT_PX} step={1} value={size} onChange={(e) => setSize(e.target.value)} aria-invalid={!sizeOk || undefined} aria-describedby="font-size-hint" />
          <div className={sizeOk ? 'hint' : 'field-error'} id="font-size-hint">
            From {MIN_FONT_PX} to {MAX_FONT_PX}.
          </div>
        </div>
        <div className={`field${hex ? '' : ' field-invalid'}`}>
          <label htmlFor="font-color">Colour</label>
          <div className="color-row">
            <input type="color" aria-label="Pick a colour" value={hex ?? '#000000'} onChange={(e) => setColor(e.target.value)} />
            <input id="font-color" value={color} maxLength={7} onChange={(e) => setColor(e.target.value)} aria-invalid={!hex || undefined} aria-describedby="font-color-hint" spellCheck={false} />
          </div>
          <div className={hex ? 'hint' : 'field-error'} id="font-color-hint">
            A hex colour such as #222222.
          </div>
        </div>
      </div>
      <div className="font-preview-box">
        <span className="holder-label" id="font-preview-label">
          Preview
        </span>
        <div
          className="font-preview"
          data-testid="font-preview"
          aria-labelledby="font-preview-label"
          style={{ fontFamily: fontCss(family), fontSize: sizeOk ? `${sizePx}px` : undefined, color: hex ?? undefined }}
        >
          <p>Hi Marie,</p>
          <p>Thanks for your time today. As promised, here are the next steps for the rollout.</p>
          <p>Best regards,<br />{prefs.fromAddresses[0]?.address ?? 'you'}</p>
        </div>
      </div>
      {state.error && <Notice kind="error">{state.error}</Notice>}
      {state.saved && <Notice kind="success">Font saved.</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.busy || !sizeOk || !hex}>
          {state.busy ? 'Saving…' : 'Save font'}
        </button>
        {prefs.font && (
          <button type="button" className="btn" disabled={state.busy} onClick={() => void submit(null)}>
            Use no default font
          </button>
        )}
      </div>
    </form>
  );
}

function SignatureSettings({ prefs, onSaved }: { prefs: EmailPreferences; onSaved: (p: EmailPreferences) => void }) {
  const [signature, setSignature] = useState(prefs.signature ?? '');
  const [state, setState] = useState<{ busy: boolean; error: string | null; saved: boolean }>({ busy: false, error: null, saved: false });
  const save = async (e: FormEvent) => {
    e.preventDefault();
    setState({ busy: true, error: null, saved: false });
    try {
      onSaved(await updatePreferences({ signature: signature.trim() ? signature : null }));
      setState({ busy: false, error: null, saved: true });
    } catch (err) {
      setState({ busy: false, error: errorText(err), saved: false });
    }
  };
  return (
    <form className="card stack" aria-labelledby="prefs-signature" onSubmit={save}>
      <h2 id="prefs-signature">Signature</h2>
      <div className="field">
        <label htmlFor="personal-signature">Your signature</label>
        <textarea id="personal-signature" rows={4} maxLength={10000} value={signature} onChange={(e) => setSignature(e.target.value)} aria-describedby="personal-signature-hint" />
        <div className="hint" id="personal-signature-hint">
          Added below the email you send from contacts’ records (you can leave it out for one email).
        </div>
      </div>
      {state.error && <Notice kind="error">{state.error}</Notice>}
      {state.saved && <Notice kind="success">Signature saved.</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={state.busy}>
          {state.busy ? 'Saving…' : 'Save signature'}
        </button>
      </div>
    </form>
  );
}

function LoggingAddress({ existing, hasConnections }: { existing: string | null; hasConnections: boolean }) {
  const [data, setData] = useState<{ address: string; acceptsFrom: string[] } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const load = async () => {
    setBusy(true);
    setError(null);
    try {
      setData(await getLoggingAddress());
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  };
  // An address that exists already is shown at once (reading it creates nothing).
  useEffect(() => {
    if (existing) void load();
  }, [existing]);
  return (
    <section className="card stack" aria-labelledby="prefs-bcc">
      <h2 id="prefs-bcc">BCC logging address</h2>
      <p className="muted small">
        BCC or forward email to this address from your own mail app and it is logged on the recipients’ timelines. Only mail from your connected addresses is accepted.
      </p>
      {data ? (
        <>
          <CopyableValue value={data.address} label="Your BCC logging address" />
          <p className="small">
            {data.acceptsFrom.length ? (
              <>Accepted from: {data.acceptsFrom.join(', ')}</>
            ) : (
              <span className="muted">Connect your personal email above: mail to this address is accepted only from your own connected addresses.</span>
            )}
          </p>
        </>
      ) : (
        <div className="form-actions">
          <button type="button" className="btn" onClick={load} disabled={busy}>
            {busy ? 'Creating…' : existing ? 'Show my logging address' : 'Create my logging address'}
          </button>
          {!hasConnections && <span className="muted small">It works once your personal email is connected.</span>}
        </div>
      )}
      {error && <Notice kind="error">{error}</Notice>}
    </section>
  );
}

/** Settings → Email, below the connections: log and track defaults, account rule, never-log lists, font, signature, BCC address. */
export function EmailPreferencesSections({ hasConnections }: { hasConnections: boolean }) {
  const { session } = useSession();
  const { data: prefs, error, setData } = useLoad(getPreferences, []);
  const save = async (p: PreferencesPatch) => setData(await updatePreferences(p));
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!prefs) return <Spinner label="Loading your email preferences…" />;
  return (
    <div className="prefs">
      <LoggingDefaults prefs={prefs} save={save} />
      {isAdmin(session.user.role) && <AccountRule />}
      <section className="card stack" aria-labelledby="prefs-never-log">
        <h2 id="prefs-never-log">Never log</h2>
        <EntryList
          listLabel="Your never-log list"
          inputLabel="Add an address or domain"
          placeholder="family.com or friend@gmail.com"
          hint="Your mail with these addresses or domains is never logged and never creates contacts. Other recipients of the same email still log."
          empty="Nothing excluded yet. Add private addresses (family, friends) or domains you never want on a timeline."
          entries={prefs.neverLog.map((v) => ({ key: v, label: v }))}
          onAdd={(v) => save({ neverLog: [...prefs.neverLog, v] })}
          onRemove={(k) => save({ neverLog: prefs.neverLog.filter((x) => x !== k) })}
        />
      </section>
      <FontSettings prefs={prefs} onSaved={setData} />
      <SignatureSettings prefs={prefs} onSaved={setData} />
      <LoggingAddress existing={prefs.loggingAddress} hasConnections={hasConnections} />
    </div>
  );
}
