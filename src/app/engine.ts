/**
 * The mail engine of a process: the ingest pipeline (from the ingest feature), the background jobs of
 * every feature, and, for the smtp role, the inbound SMTP server with the features' addresses.
 */
import type { Logger } from 'pino';
import { createIngestor, type Ingestor } from '../features/ingest/index.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../mail/inbound-smtp.js';
import { inboundWiring, jobHandlersFor } from './features.js';

export { createIngestor, jobHandlersFor };

export async function startInbound(ingestor: Ingestor, o: { port: number; host: string; log: Logger; maxMessageBytes?: number }): Promise<RunningInboundSmtp> {
  return startInboundSmtp(ingestor, {
    port: o.port,
    host: o.host,
    maxMessageBytes: o.maxMessageBytes ?? Number(process.env.MAILROOM_INBOUND_MAX_BYTES ?? 40 * 1024 * 1024),
    maxClients: Number(process.env.MAILROOM_INBOUND_MAX_CLIENTS ?? 100),
    connectionsPerMinute: Number(process.env.MAILROOM_INBOUND_CONNECTIONS_PER_MINUTE ?? 120),
    log: o.log,
    ...inboundWiring(),
  });
}
