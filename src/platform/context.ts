import type { Kysely, Transaction } from 'kysely';
import type { DB } from './database/schema.js';
import type { Dialect } from './database/database.js';
import type { AccountsTable, UsersTable } from './database/schema.js';
import type { Reactions } from './reactions.js';
import type { AllowList } from './security/host-guard.js';

export type Executor = Kysely<DB> | Transaction<DB>;

/** Seals and opens secrets (mail passwords) stored in the database: AES-256-GCM, key outside the database. */
export interface SecretBox {
  seal(plaintext: string): string;
  open(sealed: string): string;
  /** A secret derived from the key for one purpose (reply tokens, tracking links), hex. */
  derive(purpose: string): string;
}

/** The connect-time check of mail servers, provided by the mail layer (real network I/O). */
export type MailVerifier = (input: {
  imap?: { host: string; port: number; tls: 'tls' | 'starttls' | 'none'; username: string; password: string };
  smtp: { host: string; port: number; tls: 'tls' | 'starttls' | 'none'; username: string; password: string };
}) => Promise<{ sentFolder: string | null; folders: string[] }>;

/**
 * The settings commands, jobs and routes read: values from the app's configuration (src/app/config.ts,
 * where each is documented with its environment variable), passed in by src/app/env.ts.
 */
export interface Settings {
  inboundDomain: string;
  publicUrl: string;
  dataDir: string;
  notifySmtpUrl?: string;
  notifyFrom?: string;
  /** Notification email batches what happens within this window (NOTIFY_BATCH_SECONDS). */
  notifyBatchMs: number;
  /** Tracking hits wait this long before they are processed (MAILROOM_TRACKING_SETTLE_MS). */
  trackingSettleMs: number;
  /** Tracking notifications are batched over this window (MAILROOM_TRACKING_DIGEST_MS). */
  trackingDigestMs: number;
  /** How often an open live-update stream rechecks its reader's access (MAILROOM_SSE_RECHECK_MS). */
  sseRecheckMs: number;
  /** Sign-in attempts per minute per address and client (MAILROOM_LOGIN_RATE_MAX). */
  loginRateMax: number;
  /** Images per minute per reader through the image proxy (MAILROOM_IMAGE_PROXY_RATE_MAX). */
  imageProxyRateMax: number;
  /**
   * Private hosts the image proxy may fetch from (MAILROOM_IMAGE_PROXY_ALLOW_HOSTS), separate from the mail
   * servers' MAILROOM_ALLOW_PRIVATE_HOSTS. Absent: none.
   */
  imageProxyAllowHosts?: AllowList;
  /** Mailbox sync: time slice, IDLE re-issue and poll intervals (MAILROOM_SYNC_SLICE_MS, ...). */
  sync: { sliceMs: number; idleReissueMs: number; pollMs: number };
  /**
   * Authserv-ids of the operator's own mail servers, whose topmost Authentication-Results header IMAP
   * sync believes (MAILROOM_TRUSTED_AUTHSERV_IDS; src/mail/authentication-results.ts). Unset: none.
   */
  trustedAuthservIds?: readonly string[];
}

/** What every command receives: the database, the clock, secrets, settings and the shell's services. */
export interface CommandEnv {
  db: Kysely<DB>;
  dialect: Dialect;
  now: () => number;
  secrets: SecretBox;
  settings: Settings;
  verifyMailSettings: MailVerifier;
  /** What other features do when this one changes something (filled by src/app/features.ts). */
  reactions: Reactions;
  /** Called after a commit that queued background work, so a worker in this process looks at once. */
  onJobsQueued?: () => void;
}

export type UserRow = UsersTable;

/** The authenticated user performing a command, always scoped to their account. */
export interface Actor {
  user: UserRow;
  accountId: string;
  plan: AccountsTable['plan'];
}

export const systemClock = () => Date.now();
