/**
 * Settings → Webhooks (admins): the account's webhook endpoints over /api/v1/webhooks. Create one (URL,
 * description, event types from the catalogue), see its signing secret once, switch it on and off, choose
 * thin or full payloads, rotate its secret (both sign during the overlap), send a test event, read its
 * delivery log attempt by attempt, replay one delivery or a time range, delete it; and how long the
 * account keeps the delivery log. Everything the API offers for webhooks.
 */
import { Fragment, useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import type { CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookEventType } from '../api/types.js';
import {
  createWebhook,
  deleteWebhook,
  getWebhookDelivery,
  getWebhookSettings,
  listWebhookDeliveries,
  listWebhookEventTypes,
  listWebhooks,
  replayWebhookDelivery,
  replayWebhookRange,
  rotateWebhookSecret,
  sendWebhookTest,
  updateWebhook,
  updateWebhookSettings,
} from '../api/webhooks.js';
import { Badge, ConfirmDialog, CopyableValue, EmptyState, Field, Notice, PageTitle, Spinner, useLoad } from '../components/ui.js';
import { formatDateTime } from '../lib/format.js';

const ALL = '*';

function EventTypesPicker({ catalogue, value, onChange, idPrefix }: { catalogue: WebhookEventType[]; value: string[]; onChange: (v: string[]) => void; idPrefix: string }) {
  const all = value.includes(ALL);
  return (
    <fieldset className="webhook-events">
      <legend>Events to send</legend>
      <label>
        <input type="checkbox" checked={all} onChange={(e) => onChange(e.target.checked ? [ALL] : [])} /> Every event, including ones added later
      </label>
      {!all && (
        <ul className="webhook-event-list" aria-label="Event types">
          {catalogue.map((t) => (
            <li key={t.type}>
              <label htmlFor={`${idPrefix}-${t.type}`}>
                <input
                  id={`${idPrefix}-${t.type}`}
                  type="checkbox"
                  checked={value.includes(t.type)}
                  onChange={(e) => onChange(e.target.checked ? [...value, t.type] : value.filter((x) => x !== t.type))}
                />{' '}
                <code>{t.type}</code> <span className="muted small">{t.description}</span>
              </label>
            </li>
          ))}
        </ul>
      )}
    </fieldset>
  );
}

function CreateForm({ catalogue, onCreated }: { catalogue: WebhookEventType[]; onCreated: (e: CreatedWebhookEndpoint) => void }) {
  const [url, setUrl] = useState('');
  const [description, setDescription] = useState('');
  const [types, setTypes] = useState<string[]>([ALL]);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const created = await createWebhook({ url: url.trim(), description: description.trim(), eventTypes: types });
      setUrl('');
      setDescription('');
      setTypes([ALL]);
      onCreated(created);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="webhook-create-title">
      <h2 id="webhook-create-title">Add an endpoint</h2>
      <Field label="URL" id="webhook-url" hint="Mailroom POSTs each event here as JSON, signed with the endpoint's secret (Standard Webhooks). https only.">
        <input id="webhook-url" type="url" required placeholder="https://example.com/mailroom-events" value={url} onChange={(e) => setUrl(e.target.value)} autoComplete="off" />
      </Field>
      <Field label="Description (optional)" id="webhook-description">
        <input id="webhook-description" maxLength={500} value={description} onChange={(e) => setDescription(e.target.value)} autoComplete="off" />
      </Field>
      <EventTypesPicker catalogue={catalogue} value={types} onChange={setTypes} idPrefix="new-event" />
      {error && <Notice kind="error">{error}</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-primary" disabled={busy || types.length === 0}>
          {busy ? 'Adding…' : 'Add endpoint'}
        </button>
        {types.length === 0 && <span className="muted small">Choose at least one event.</span>}
      </div>
    </form>
  );
}

/** The endpoint's last answer in a few words: status, error, and when the next try is due. */
function lastAnswer(d: WebhookDelivery): string {
  const parts = [d.lastStatus !== null ? `HTTP ${d.lastStatus}` : '', d.lastError ?? '', d.state === 'pending' && d.nextAttemptAt ? `next try ${formatDateTime(d.nextAttemptAt)}` : ''];
  return parts.filter(Boolean).join(' · ') || (d.attempts === 0 ? 'Not sent yet' : '');
}

const DELIVERY_TONE = { succeeded: 'good', failed: 'bad', pending: 'info' } as const;

/** One delivery's log: the body every attempt sent, then each attempt (latest first) with its request headers, answer and timing. */
function DeliveryDetail({ endpointId, deliveryId, refreshKey }: { endpointId: string; deliveryId: string; refreshKey: number }) {
  const { data, error, loading } = useLoad(() => getWebhookDelivery(endpointId, deliveryId), [endpointId, deliveryId, refreshKey]);
  if (loading && !data) return <Spinner label="Loading attempts…" />;
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  if (!data) return null;
  return (
    <section className="webhook-delivery-detail stack" aria-label={`Delivery ${deliveryId}`}>
      <div className="small">
        webhook-id <code>{data.id}</code> · event <code>{data.eventId}</code>
        {data.state === 'pending' && data.nextAttemptAt ? <> · next attempt {formatDateTime(data.nextAttemptAt)}</> : null}
      </div>
      <figure className="webhook-figure">
        <figcaption className="small muted">Request body (the same for every attempt)</figcaption>
        <pre className="webhook-payload">{data.requestBody}</pre>
      </figure>
      {data.log.length === 0 ? (
        <p className="muted small">No attempt yet.</p>
      ) : (
        <ol className="webhook-attempts" aria-label="Attempts">
          {data.log.map((a) => (
            <li key={a.attempt} className="webhook-attempt">
              <div>
                <strong>Attempt {a.attempt}</strong> · {formatDateTime(a.startedAt)} · {a.status !== null ? `HTTP ${a.status}` : 'no answer'} · {a.latencyMs} ms
              </div>
              {a.error && <div className="small">{a.error}</div>}
              <figure className="webhook-figure">
                <figcaption className="small muted">Request headers</figcaption>
                <pre className="webhook-payload">
                  {Object.entries(a.requestHeaders)
                    .map(([k, v]) => `${k}: ${v}`)
                    .join('\n')}
                </pre>
              </figure>
              <figure className="webhook-figure">
                <figcaption className="small muted">Response (first kilobyte)</figcaption>
                <pre className="webhook-payload">{a.responseBody || '(empty)'}</pre>
              </figure>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}

function Deliveries({ endpointId, refreshKey }: { endpointId: string; refreshKey: number }) {
  const { data, error, loading, reload } = useLoad(() => listWebhookDeliveries(endpointId, 10), [endpointId, refreshKey]);
  const [open, setOpen] = useState<string | null>(null);
  const [detailKey, setDetailKey] = useState(0);
  const [replaying, setReplaying] = useState<string | null>(null);
  const [actionError, setActionError] = useState<string | null>(null);
  const replay = async (deliveryId: string) => {
    setReplaying(deliveryId);
    setActionError(null);
    try {
      await replayWebhookDelivery(endpointId, deliveryId);
      reload();
      setDetailKey((k) => k + 1);
    } catch (err) {
      setActionError(errorText(err));
    } finally {
      setReplaying(null);
    }
  };
  if (loading && !data) return <Spinner label="Loading deliveries…" />;
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  const refresh = (
    <button
      type="button"
      className="btn btn-small"
      onClick={() => {
        reload();
        setDetailKey((k) => k + 1);
      }}
    >
      Refresh
    </button>
  );
  if (!data?.length)
    return (
      <>
        <p className="muted small">Nothing sent yet. Deliveries appear here as events happen.</p>
        {refresh}
      </>
    );
  return (
    <>
      {actionError && <Notice kind="error">{actionError}</Notice>}
      <table className="table webhook-deliveries">
        <caption className="sr-only">Latest deliveries</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">When</th>
            <th scope="col">
              <span className="sr-only">Actions</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {data.map((d: WebhookDelivery) => (
            <Fragment key={d.id}>
              <tr>
                <td>
                  <code>{d.eventType}</code>
                </td>
                <td>
                  <Badge tone={DELIVERY_TONE[d.state]}>{d.state === 'succeeded' ? 'Delivered' : d.state === 'failed' ? 'Failed' : 'Pending'}</Badge>
                </td>
                <td>{d.attempts}</td>
                <td className="small">{lastAnswer(d)}</td>
                <td className="small">{formatDateTime(d.finishedAt ?? d.createdAt)}</td>
                <td className="webhook-delivery-actions">
                  <button type="button" className="btn btn-small" aria-expanded={open === d.id} aria-label={`Attempts of ${d.eventType} ${d.id}`} onClick={() => setOpen((x) => (x === d.id ? null : d.id))}>
                    {open === d.id ? 'Hide' : 'Attempts'}
                  </button>
                  <button type="button" className="btn btn-small" aria-label={`Replay ${d.eventType} ${d.id}`} disabled={d.state === 'pending' || replaying === d.id} onClick={() => replay(d.id)}>
                    Replay
                  </button>
                </td>
              </tr>
              {open === d.id && (
                <tr className="webhook-delivery-detail-row">
                  <td colSpan={6}>
                    <DeliveryDetail endpointId={endpointId} deliveryId={d.id} refreshKey={detailKey} />
                  </td>
                </tr>
              )}
            </Fragment>
          ))}
        </tbody>
      </table>
      {refresh}
    </>
  );
}

/** Rotation: a new secret, shown once; the previous one keeps signing for the overlap so receivers can switch. */
function RotateSecret({ e, onRotated }: { e: WebhookEndpoint; onRotated: (e: WebhookEndpoint) => void }) {
  const [asking, setAsking] = useState(false);
  const [hours, setHours] = useState('24');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [rotated, setRotated] = useState<CreatedWebhookEndpoint | null>(null);
  const rotate = async () => {
    setBusy(true);
    setError(null);
    try {
      const r = await rotateWebhookSecret(e.id, Number(hours));
      setRotated(r);
      setAsking(false);
      const { secret: _shownOnce, ...endpoint } = r;
      onRotated(endpoint);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <>
      <button type="button" className="btn btn-small" onClick={() => setAsking(true)}>
        Rotate secret
      </button>
      <ConfirmDialog open={asking} title="Rotate the signing secret?" confirmLabel="Rotate secret" busy={busy} onConfirm={rotate} onCancel={() => setAsking(false)}>
        <p>Mailroom makes a new secret. During the overlap every delivery carries two signatures, one per secret, so your receiver keeps accepting events while you switch it over.</p>
        <Field label="Overlap (hours)" id={`overlap-${e.id}`} hint="0 to 168. 0 ends the old secret at once.">
          <input id={`overlap-${e.id}`} type="number" min={0} max={168} step={1} value={hours} onChange={(ev) => setHours(ev.target.value)} />
        </Field>
        {error && <Notice kind="error">{error}</Notice>}
      </ConfirmDialog>
      {rotated && (
        <Notice kind="success" title="New signing secret: copy it now">
          <p>
            This is the only time it is shown: <strong>you will not see it again</strong>.{' '}
            {rotated.previousSecretExpiresAt ? `The previous secret also signs deliveries until ${formatDateTime(rotated.previousSecretExpiresAt)}.` : 'The previous secret no longer signs.'}
          </p>
          <CopyableValue value={rotated.secret} label={`New signing secret for ${rotated.url}`} />
          <button type="button" className="btn btn-small" onClick={() => setRotated(null)}>
            I have saved it
          </button>
        </Notice>
      )}
    </>
  );
}

/** The value of a datetime-local input as an ISO instant (the browser's time zone). */
const isoOfLocal = (v: string) => (v ? new Date(v).toISOString() : '');

/** Sends again the finished deliveries of the events in a time range (all, or only the failed ones). */
function ReplayRange({ endpointId, onReplayed }: { endpointId: string; onReplayed: () => void }) {
  const [since, setSince] = useState('');
  const [until, setUntil] = useState('');
  const [onlyFailed, setOnlyFailed] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<number | null>(null);
  const submit = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    setDone(null);
    try {
      setDone(await replayWebhookRange(endpointId, { since: isoOfLocal(since), until: isoOfLocal(until), onlyFailed }));
      onReplayed();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="webhook-replay-range stack" onSubmit={submit} aria-label="Replay a time range">
      <div className="small muted">Replay the events of a time range (finished deliveries are sent again, with their webhook-id; at most 1,000).</div>
      <div className="form-row">
        <Field label="From" id={`replay-since-${endpointId}`}>
          <input id={`replay-since-${endpointId}`} type="datetime-local" required value={since} onChange={(e) => setSince(e.target.value)} />
        </Field>
        <Field label="To" id={`replay-until-${endpointId}`}>
          <input id={`replay-until-${endpointId}`} type="datetime-local" required value={until} onChange={(e) => setUntil(e.target.value)} />
        </Field>
      </div>
      <label>
        <input type="checkbox" checked={onlyFailed} onChange={(e) => setOnlyFailed(e.target.checked)} /> Only failed deliveries
      </label>
      {error && <Notice kind="error">{error}</Notice>}
      {done !== null && <Notice kind="success">{done === 1 ? '1 delivery will be sent again.' : `${done} deliveries will be sent again.`}</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn btn-small" disabled={busy}>
          {busy ? 'Replaying…' : 'Replay range'}
        </button>
      </div>
    </form>
  );
}

/** How long the account keeps deliveries, their attempts and events. */
function RetentionSettings() {
  const settings = useLoad(getWebhookSettings, []);
  const [days, setDays] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);
  const value = days ?? (settings.data ? String(settings.data.logRetentionDays) : '');
  const save = async (ev: FormEvent) => {
    ev.preventDefault();
    setBusy(true);
    setError(null);
    setSaved(false);
    try {
      settings.setData(await updateWebhookSettings({ logRetentionDays: Number(value) }));
      setDays(null);
      setSaved(true);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form className="card stack" onSubmit={save} aria-labelledby="webhook-retention-title">
      <h2 id="webhook-retention-title">Delivery log</h2>
      {settings.error ? <Notice kind="error">{errorText(settings.error)}</Notice> : null}
      <Field label="Keep the delivery log for (days)" id="webhook-retention" hint="Deliveries, their attempts and events older than this are deleted (1 to 365). Deliveries still being retried stay.">
        <input
          id="webhook-retention"
          type="number"
          min={1}
          max={365}
          required
          value={value}
          onChange={(e) => {
            setDays(e.target.value);
            setSaved(false);
          }}
        />
      </Field>
      {error && <Notice kind="error">{error}</Notice>}
      {saved && <Notice kind="success">Saved.</Notice>}
      <div className="form-actions">
        <button type="submit" className="btn" disabled={busy || !settings.data}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

function EndpointCard({ e, onChanged, onDeleted }: { e: WebhookEndpoint; onChanged: (e: WebhookEndpoint) => void; onDeleted: (id: string) => void }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [confirming, setConfirming] = useState(false);
  const [showDeliveries, setShowDeliveries] = useState(false);
  // The switch shows the new value at once and settles when the server answers.
  const [pendingEnabled, setPendingEnabled] = useState<boolean | null>(null);
  const enabled = pendingEnabled ?? e.enabled;
  const setEnabled = async (on: boolean) => {
    setError(null);
    setPendingEnabled(on);
    try {
      onChanged(await updateWebhook(e.id, { enabled: on }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setPendingEnabled(null);
    }
  };
  const [pendingFull, setPendingFull] = useState<boolean | null>(null);
  const full = pendingFull ?? e.payload === 'full';
  const setFull = async (on: boolean) => {
    setError(null);
    setPendingFull(on);
    try {
      onChanged(await updateWebhook(e.id, { payload: on ? 'full' : 'thin' }));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setPendingFull(null);
    }
  };
  const [showReplay, setShowReplay] = useState(false);
  const [testSent, setTestSent] = useState(false);
  const [refreshKey, setRefreshKey] = useState(0);
  const sendTest = async () => {
    setError(null);
    try {
      await sendWebhookTest(e.id);
      setTestSent(true);
      setShowDeliveries(true);
      // The event goes out through the job queue: look again shortly.
      window.setTimeout(() => setRefreshKey((k) => k + 1), 2000);
    } catch (err) {
      setError(errorText(err));
    }
  };
  const remove = async () => {
    setBusy(true);
    try {
      await deleteWebhook(e.id);
      setConfirming(false);
      onDeleted(e.id);
    } catch (err) {
      setError(errorText(err));
      setConfirming(false);
    } finally {
      setBusy(false);
    }
  };
  return (
    <li className="card webhook" aria-labelledby={`webhook-${e.id}`}>
      <div className="connection-head">
        <div>
          <h3 id={`webhook-${e.id}`} className="connection-address">
            {e.url}
          </h3>
          {e.description && <div>{e.description}</div>}
          <div className="muted small">
            {e.eventTypes.includes(ALL) ? 'Every event' : e.eventTypes.join(', ')} · added {formatDateTime(e.createdAt)}
          </div>
          {e.previousSecretExpiresAt && <div className="muted small">The previous secret also signs until {formatDateTime(e.previousSecretExpiresAt)}.</div>}
          {e.failingSince && <div className="muted small">Failing since {formatDateTime(e.failingSince)} (disabled after 5 days without a success).</div>}
        </div>
        <Badge tone={e.enabled ? 'good' : 'neutral'}>{e.enabled ? 'Enabled' : 'Disabled'}</Badge>
      </div>
      {!e.enabled && e.disabledReason && <Notice kind="warning">{e.disabledReason}</Notice>}
      {error && <Notice kind="error">{error}</Notice>}
      <div className="connection-flags">
        <label className="switch">
          <input type="checkbox" checked={enabled} disabled={pendingEnabled !== null} onChange={(ev) => setEnabled(ev.target.checked)} />
          <span>Send events to this endpoint</span>
        </label>
        <label className="switch">
          <input type="checkbox" checked={full} disabled={pendingFull !== null} onChange={(ev) => setFull(ev.target.checked)} />
          <span>Full objects in events</span>
        </label>
        <button type="button" className="btn btn-small" onClick={sendTest} disabled={!e.enabled}>
          Send a test event
        </button>
        <button type="button" className="btn btn-small" aria-expanded={showDeliveries} onClick={() => setShowDeliveries((x) => !x)}>
          {showDeliveries ? 'Hide deliveries' : 'Latest deliveries'}
        </button>
        <button type="button" className="btn btn-small" aria-expanded={showReplay} onClick={() => setShowReplay((x) => !x)}>
          Replay events…
        </button>
        <RotateSecret e={e} onRotated={onChanged} />
        <button type="button" className="btn btn-danger-outline webhook-delete" onClick={() => setConfirming(true)}>
          Delete
        </button>
      </div>
      {full && <p className="muted small">Contact, company and conversation events carry the object as the API shows it when the event is sent, in data.object.</p>}
      {showReplay && (
        <ReplayRange
          endpointId={e.id}
          onReplayed={() => {
            setShowDeliveries(true);
            setRefreshKey((k) => k + 1);
          }}
        />
      )}
      {showDeliveries && (
        <section className="webhook-deliveries-section" aria-label={`Latest deliveries to ${e.url}`}>
          {testSent && <p className="muted small">Test event queued: it shows here once sent (use Refresh).</p>}
          <Deliveries endpointId={e.id} refreshKey={refreshKey} />
        </section>
      )}
      <ConfirmDialog open={confirming} title="Delete this endpoint?" confirmLabel="Delete endpoint" danger busy={busy} onConfirm={remove} onCancel={() => setConfirming(false)}>
        <p>
          Mailroom stops sending events to <strong>{e.url}</strong> and forgets its delivery log. To pause it instead, switch it off.
        </p>
      </ConfirmDialog>
    </li>
  );
}

export function SettingsWebhooksPage() {
  const endpoints = useLoad(listWebhooks, []);
  const catalogue = useLoad(listWebhookEventTypes, []);
  const [created, setCreated] = useState<CreatedWebhookEndpoint | null>(null);
  const list = endpoints.data;
  return (
    <section className="page">
      <PageTitle>Webhooks</PageTitle>
      <p className="muted">Send Mailroom's events (new contacts, conversations, received email, connection trouble…) to your own systems as they happen.</p>
      {catalogue.error ? <Notice kind="error">{errorText(catalogue.error)}</Notice> : null}
      <CreateForm
        catalogue={catalogue.data ?? []}
        onCreated={(c) => {
          setCreated(c);
          endpoints.reload();
        }}
      />
      {created && (
        <Notice kind="success" title="Endpoint added: copy its signing secret now">
          <p>
            This is the only time the secret is shown: <strong>you will not see it again</strong>. Keep it where your receiving code can read it, to check the
            <code> webhook-signature</code> header of each event. If it is lost, delete the endpoint and add it again.
          </p>
          <CopyableValue value={created.secret} label={`Signing secret for ${created.url}`} />
          <button type="button" className="btn btn-small" onClick={() => setCreated(null)}>
            I have saved it
          </button>
        </Notice>
      )}
      <h2>Endpoints</h2>
      {endpoints.loading && !list && <Spinner />}
      {endpoints.error ? <Notice kind="error">{errorText(endpoints.error)}</Notice> : null}
      {list && list.length === 0 && (
        <EmptyState title="No webhook endpoints yet">
          <p>Add a URL above and Mailroom will POST each event to it, signed so you can check it came from here. Failed deliveries are retried.</p>
        </EmptyState>
      )}
      {list && list.length > 0 && (
        <ul className="connection-list" aria-label="Webhook endpoints">
          {list.map((e) => (
            <EndpointCard
              key={e.id}
              e={e}
              onChanged={(n) => endpoints.setData((xs) => xs?.map((x) => (x.id === n.id ? n : x)))}
              onDeleted={(id) => endpoints.setData((xs) => xs?.filter((x) => x.id !== id))}
            />
          ))}
        </ul>
      )}
      <RetentionSettings />
    </section>
  );
}
