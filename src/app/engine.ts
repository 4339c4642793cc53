/**
 * The mail engine of a process: the ingest pipeline (from the ingest feature), the background jobs of
 * every feature, and, for the smtp role, the inbound SMTP server with the features' addresses.
 */
import type { Logger } from 'pino';
import { createIngestor, type Ingestor } from '../features/ingest/index.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../mail/inbound-smtp.js';
import { inboundWiring, jobHandlersFor } from './features.js';

export { createIngestor, jobHandlersFor };

/** Limits come from the config (MAILROOM_INBOUND_MAX_BYTES, _MAX_CLIENTS, _CONNECTIONS_PER_MINUTE). */
export async function startInbound(ingestor: Ingestor, o: { port: number; host: string; log: Logger; maxMessageBytes: number; maxClients: number; connectionsPerMinute: number }): Promise<RunningInboundSmtp> {
  return startInboundSmtp(ingestor, {
    port: o.port,
    host: o.host,
    maxMessageBytes: o.maxMessageBytes,
    maxClients: o.maxClients,
    connectionsPerMinute: o.connectionsPerMinute,
    log: o.log,
    ...inboundWiring(),
  });
}
