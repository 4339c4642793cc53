/**
 * The mail engine of a process: the ingest pipeline (from the ingest feature), the background jobs of
 * every feature, and, for the smtp role, the inbound SMTP server with the features' addresses.
 */
import fs from 'node:fs';
import type { Logger } from 'pino';
import { createIngestor, type Ingestor } from '../features/ingest/index.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../mail/inbound-smtp.js';
import { inboundWiring, jobHandlersFor } from './features.js';

export { createIngestor, jobHandlersFor };

/**
 * Limits come from the config (MAILROOM_INBOUND_MAX_BYTES, _MAX_CLIENTS, _CONNECTIONS_PER_MINUTE); STARTTLS
 * from MAILROOM_SMTP_TLS_KEY and _CERT (PEM files, read once here: restart to load a renewed certificate).
 */
export async function startInbound(
  ingestor: Ingestor,
  o: { port: number; host: string; log: Logger; maxMessageBytes: number; maxClients: number; connectionsPerMinute: number; tls?: { keyFile: string; certFile: string } },
): Promise<RunningInboundSmtp> {
  return startInboundSmtp(ingestor, {
    ...(o.tls ? { tls: { key: fs.readFileSync(o.tls.keyFile), cert: fs.readFileSync(o.tls.certFile) } } : {}),
    port: o.port,
    host: o.host,
    maxMessageBytes: o.maxMessageBytes,
    maxClients: o.maxClients,
    connectionsPerMinute: o.connectionsPerMinute,
    log: o.log,
    ...inboundWiring(),
  });
}
