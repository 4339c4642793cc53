import client from 'prom-client';

/** Process-wide Prometheus registry, served at /metrics. */
export const registry = new client.Registry();
client.collectDefaultMetrics({ register: registry });

export const metrics = {
  httpRequests: new client.Counter({ name: 'mailroom_http_requests_total', help: 'HTTP requests', labelNames: ['method', 'route', 'status'], registers: [registry] }),
  jobsProcessed: new client.Counter({ name: 'mailroom_jobs_processed_total', help: 'Background jobs finished', labelNames: ['kind', 'outcome'], registers: [registry] }),
  messagesStored: new client.Counter({ name: 'mailroom_messages_stored_total', help: 'Messages stored', labelNames: ['source'], registers: [registry] }),
};
