/**
 * Connections: personal and team email addresses, the rules between them (one holder per address, a team
 * address feeds one inbox and never the meetings tool...), connect/disconnect/release, credentials, the
 * mailbox sync loop and the forwarding check. This file is the only door other features use.
 */
import type { Ingestor } from '../ingest/index.js';
import type { JobContext } from '../../platform/jobs/worker.js';
import type { MailboxSupervisor } from './mailbox-supervisor.js';
import { forwardingTestJob, recordForwardingTest } from './forwarding-test.js';
import { FORWARDING_TEST_JOB } from './commands/sendForwardingTest.js';
import { OAUTH_REFRESH_JOB, refreshConnectionToken } from './oauth/tokens.js';
import { RunAgain } from '../../platform/jobs/worker.js';
import { OAUTH_DEVICE_POLL_JOB, pollDeviceFlow } from './oauth/flows.js';

export { connectEmail, refusalError } from './commands/connectEmail.js';
export type { MailboxSupervisor } from './mailbox-supervisor.js';
export { updateConnection } from './commands/updateConnection.js';
export { NEW_CONNECTION_COLUMNS } from './connection-row.js';
export { disconnectEmail } from './commands/disconnectEmail.js';
export { addressKey } from './domain/address-key.js';
export { checkCreateInbox } from './domain/connection-rules.js';
export { connectedColumns, CONNECTION_STATES, CONNECTION_STAGES, type ConnectionState, type ConnectionStage } from './lifecycle.js';
export { connectionPolicies } from './policies.js';
export { refreshConnectionToken, ensureFreshToken, OAUTH_REFRESH_JOB, smtpTokenRenewal, type SmtpTokenRenewal } from './oauth/tokens.js';
export { waitsForOwner } from './lifecycle.js';

export function connectionsFeature() {
  return {
    name: 'connections',
    /** Inbound SMTP: a forwarding check email coming back through the forwarding verifies it (and is not stored). */
    inboundIntercept: recordForwardingTest,
    jobs: (ingestor: Ingestor, running: { mailboxSupervisor: MailboxSupervisor | null }) => ({
      /**
       * "Sync this mailbox now" (after connecting, new credentials, sync now): a nudge to the worker's mailbox
       * supervisor, which holds every mailbox assigned to it open and listening; without one (a process
       * that is not a worker), one time slice of the mailbox's sync loop.
       */
      'connection.sync': async (payload: { connectionId: string }, ctx: JobContext) => {
        // Loaded with the first sync (the IMAP client, the mailbox supervisor, pino): a process that never
        // syncs, such as `mailroom import`, does not load them (~0.1 s of its start-up, issue 18).
        const { DEFAULT_SYNC_JOB_SETTINGS, connectionSyncHandler } = await import('./sync-job.js');
        return connectionSyncHandler(ingestor, { ...DEFAULT_SYNC_JOB_SETTINGS, ...ingestor.env.settings.sync }, () => running.mailboxSupervisor)(payload, ctx);
      },
      /** Sends the forwarding check email through the address's own SMTP server. */
      [FORWARDING_TEST_JOB]: forwardingTestJob(ingestor),
      /**
       * OAuth connections (issue 14): refreshes the access token when due and queues the next refresh;
       * a refused refresh token moves the connection to needs_reauth (oauth_reauth_required).
       */
      [OAUTH_REFRESH_JOB]: async (payload: { connectionId: string }, ctx: JobContext) => {
        const r = await refreshConnectionToken(ingestor.env, payload.connectionId, `job:${ctx.workerId}`);
        if (r === 'busy') throw new RunAgain(30_000);
        if (typeof r === 'object') throw new RunAgain(r.retryInMs);
      },
      /**
       * A device-flow sign-in (issue 14): polls the provider at its interval (slow_down honoured) until the
       * user approves, denies or the code expires; then connects as the user who started it. The page that
       * showed the code only reads the outcome, so it may be closed.
       */
      [OAUTH_DEVICE_POLL_JOB]: async (payload: { flowId: string }) => {
        const r = await pollDeviceFlow(ingestor.env, payload.flowId);
        if (r.status === 'pending') throw new RunAgain(Math.max(250, r.nextPollAt - ingestor.env.now()));
      },
    }),
  } as const;
}
