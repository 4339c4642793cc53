/**
 * Settings → Webhooks (admins): the account's webhook endpoints over /api/v1/webhooks. Create one (URL,
 * description, event types from the catalogue), see its signing secret once, switch it on and off, delete
 * it, and read its latest deliveries.
 */
import { useState, type FormEvent } from 'react';
import { errorText } from '../api/client.js';
import type { CreatedWebhookEndpoint, WebhookDelivery, WebhookEndpoint, WebhookEventType } from '../api/types.js';
import { createWebhook, deleteWebhook, listWebhookDeliveries, listWebhookEventTypes, listWebhooks, sendWebhookTest, updateWebhook } from '../api/webhooks.js';
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

function Deliveries({ endpointId, refreshKey }: { endpointId: string; refreshKey: number }) {
  const { data, error, loading, reload } = useLoad(() => listWebhookDeliveries(endpointId, 10), [endpointId, refreshKey]);
  if (loading && !data) return <Spinner label="Loading deliveries…" />;
  if (error) return <Notice kind="error">{errorText(error)}</Notice>;
  const refresh = (
    <button type="button" className="btn btn-small" onClick={reload}>
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
      <table className="table webhook-deliveries">
        <caption className="sr-only">Latest deliveries</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">State</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last answer</th>
            <th scope="col">When</th>
          </tr>
        </thead>
        <tbody>
          {data.map((d: WebhookDelivery) => (
            <tr key={d.id}>
              <td>
                <code>{d.eventType}</code>
              </td>
              <td>
                <Badge tone={DELIVERY_TONE[d.state]}>{d.state === 'succeeded' ? 'Delivered' : d.state === 'failed' ? 'Failed' : 'Pending'}</Badge>
              </td>
              <td>{d.attempts}</td>
              <td className="small">{lastAnswer(d)}</td>
              <td className="small">{formatDateTime(d.finishedAt ?? d.createdAt)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {refresh}
    </>
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
        <button type="button" className="btn btn-small" onClick={sendTest} disabled={!e.enabled}>
          Send a test event
        </button>
        <button type="button" className="btn btn-small" aria-expanded={showDeliveries} onClick={() => setShowDeliveries((x) => !x)}>
          {showDeliveries ? 'Hide deliveries' : 'Latest deliveries'}
        </button>
        <button type="button" className="btn btn-danger-outline webhook-delete" onClick={() => setConfirming(true)}>
          Delete
        </button>
      </div>
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
    </section>
  );
}
