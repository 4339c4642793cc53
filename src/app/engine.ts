/**
 * Wires the mail engine for a process: blob store, parser pool, ingest, background jobs (sync, outbox)
 * and, for the smtp role, the inbound SMTP server.
 */
import path from 'node:path';
import type { Logger } from 'pino';
import type { CommandEnv } from '../platform/context.js';
import { folderBlobStore } from '../mail/blob-store.js';
import type { Ingestor } from '../features/ingest/ingest.js';
import { parseMessage } from '../mail/parse/index.js';
import { DEFAULT_SYNC_JOB_SETTINGS, registerSyncJob } from '../features/connections/sync-job.js';
import { registerOutboxJobs } from '../features/outbox/sender.js';
import { startInboundSmtp, type RunningInboundSmtp } from '../mail/inbound-smtp.js';
import { registerInboxFeatures } from '../features/inbox/reactions.js';
import { registerNotificationEmail } from '../features/notifications/email-digest.js';
import { registerPersonalEmailFeatures } from '../features/personal/reactions.js';
import { registerForwardingTestJob } from '../features/connections/forwarding-test.js';

export function createIngestor(env: CommandEnv): Ingestor {
  registerInboxFeatures(env); // conversations inbox: routing, reopen, deny list, search index, live updates
  registerNotificationEmail(env); // notifications also emailed when NOTIFY_SMTP_URL is set
  registerPersonalEmailFeatures(); // personal email: reply/BCC/Sent logging, send-limit notes, logging addresses, tracking digests
  return {
    env,
    blobs: folderBlobStore(path.join(env.settings.dataDir, 'blobs'), env.db),
    parse: (raw) => parseMessage(raw),
    replyTokenSecret: env.secrets.derive('reply-token'),
  };
}

/** `sync`: slice, IDLE re-issue and poll intervals from the config (default: the sync job's own). */
export function registerMailJobs(ingestor: Ingestor, o: { sync?: { sliceMs: number; idleReissueMs: number; pollMs: number } } = {}): void {
  registerSyncJob(ingestor, { ...DEFAULT_SYNC_JOB_SETTINGS, ...o.sync });
  registerOutboxJobs(ingestor);
  registerForwardingTestJob(ingestor);
}

/** Limits come from the config (MAILROOM_INBOUND_MAX_BYTES, _MAX_CLIENTS, _CONNECTIONS_PER_MINUTE). */
export async function startInbound(ingestor: Ingestor, o: { port: number; host: string; log: Logger; maxMessageBytes: number; maxClients: number; connectionsPerMinute: number }): Promise<RunningInboundSmtp> {
  return startInboundSmtp(ingestor, {
    port: o.port,
    host: o.host,
    maxMessageBytes: o.maxMessageBytes,
    maxClients: o.maxClients,
    connectionsPerMinute: o.connectionsPerMinute,
    log: o.log,
  });
}
