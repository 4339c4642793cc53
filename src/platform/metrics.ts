import client from 'prom-client';

/** Process-wide Prometheus registry, served at /metrics. */
export const registry = new client.Registry();

let collecting = false;
/**
 * The process's own metrics (CPU, memory, event loop lag, GC) in the registry, from now on: called by the
 * process that serves /metrics when it registers the route. A one-shot command (`mailroom import`) does
 * not pay for their collectors (~40 ms at start-up, issue 18).
 */
export function collectProcessMetrics(): void {
  if (collecting) return;
  collecting = true;
  client.collectDefaultMetrics({ register: registry });
}

export const metrics = {
  httpRequests: new client.Counter({ name: 'mailroom_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
  jobsProcessed: new client.Counter({ name: 'mailroom_jobs_processed_total', help: 'Background jobs finished', labelNames: ['kind', 'outcome'], registers: [registry] }),
  messagesStored: new client.Counter({ name: 'mailroom_messages_stored_total', help: 'Messages stored', labelNames: ['source'], registers: [registry] }),
};
