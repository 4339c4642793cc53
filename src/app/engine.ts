/**
 * The mail engine of a process: the ingest pipeline (from the ingest feature), the background jobs of
 * every feature, and, for the smtp role, the inbound SMTP server with the features' addresses.
 */
import type { Logger } from 'pino';
import { createIngestor, type Ingestor } from '../features/ingest/index.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../mail/inbound-smtp.js';
import { tlsFiles } from '../mail/tls-files.js';
import { senderAuthenticator, type SenderAuthenticator } from '../mail/sender-auth.js';
import { inboundWiring, jobHandlersFor } from './features.js';

export { createIngestor, jobHandlersFor };

/**
 * Limits come from the config (MAILROOM_INBOUND_MAX_BYTES, _MAX_CLIENTS, _CONNECTIONS_PER_MINUTE); STARTTLS
 * from MAILROOM_SMTP_TLS_KEY and _CERT (PEM files, read again on the next connection after they change:
 * a renewed certificate needs no restart), required before MAIL FROM with MAILROOM_SMTP_REQUIRE_TLS;
 * sender authentication (src/mail/sender-auth.ts) with the system's DNS unless turned off.
 */
export async function startInbound(
  ingestor: Ingestor,
  o: {
    port: number;
    host: string;
    log: Logger;
    maxMessageBytes: number;
    maxClients: number;
    connectionsPerMinute: number;
    tls?: { keyFile: string; certFile: string };
    requireTls?: boolean;
    /** SPF, DKIM, DMARC and ARC per message (MAILROOM_INBOUND_SENDER_AUTH, default on); a function: that verifier (tests' recorded DNS). */
    senderAuth?: boolean | SenderAuthenticator;
  },
): Promise<RunningInboundSmtp> {
  const senderAuth =
    typeof o.senderAuth === 'function'
      ? o.senderAuth
      : o.senderAuth !== false
        ? senderAuthenticator({ onError: (err) => o.log.warn({ err: { message: err.message } }, 'sender authentication failed; message stored unverified') })
        : undefined;
  const files = o.tls
    ? tlsFiles(o.tls.keyFile, o.tls.certFile, (err) =>
        o.log.error({ err: { message: err.message } }, 'inbound SMTP certificate or key changed but does not load; keeping the previous one'),
      )
    : null;
  return startInboundSmtp(ingestor, {
    ...(files ? { tls: { ...files.initial, reload: () => files.check() }, requireTls: o.requireTls ?? false } : {}),
    port: o.port,
    host: o.host,
    maxMessageBytes: o.maxMessageBytes,
    maxClients: o.maxClients,
    connectionsPerMinute: o.connectionsPerMinute,
    log: o.log,
    ...(senderAuth ? { senderAuth } : {}),
    ...inboundWiring(),
  });
}
