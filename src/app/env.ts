/**
 * Wires the imperative shell: builds the CommandEnv that commands receive from the database, the
 * configuration, the secret key and the mail layer's real verifier.
 */
import type { Config } from './config.js';
import type { Database } from '../platform/database/database.js';
import type { CommandEnv } from '../platform/context.js';
import { systemClock } from '../platform/context.js';
import { deriveKey, loadOrCreateKey, open, seal } from '../platform/security/secret-box.js';
import { verifyConnectionSettings } from '../mail/verify-connection.js';
import { setAllowPrivateHosts } from '../platform/security/host-guard.js';
import { openDatabase, type Database as OpenedDatabase } from '../platform/database/database.js';
import { featureReactions, startFeatures } from './features.js';

/**
 * Process-wide settings, applied once by each process's entry point (serve, the CLI, a test child):
 * the SSRF guard's allow-list of private hosts (MAILROOM_ALLOW_PRIVATE_HOSTS).
 */
export function applyProcessSettings(config: Config): void {
  setAllowPrivateHosts(config.allowPrivateHosts);
}

/** Opens the configured database (SQLite under DATA_DIR, or PostgreSQL). */
export function openConfiguredDatabase(config: Config): Promise<OpenedDatabase> {
  return openDatabase({ databaseUrl: config.databaseUrl, pgSchema: config.databaseSchema, dataDir: config.dataDir, sqliteBusyTimeoutMs: config.sqliteBusyTimeoutMs });
}

export async function makeCommandEnv(database: Database, config: Config, opts: { now?: () => number } = {}): Promise<CommandEnv> {
  const key = await loadOrCreateKey({ secretKey: config.secretKey, previousSecretKeys: config.previousSecretKeys, dataDir: config.dataDir });
  const env: CommandEnv = {
    db: database.db,
    dialect: database.dialect,
    now: opts.now ?? systemClock,
    secrets: { seal: (p) => seal(p, key), open: (s) => open(s, key), derive: (purpose) => deriveKey(key, purpose).toString('hex') },
    settings: {
      inboundDomain: config.inboundDomain,
      publicUrl: config.publicUrl,
      dataDir: config.dataDir,
      notifySmtpUrl: config.notifySmtpUrl,
      notifyFrom: config.notifyFrom,
      notifyBatchMs: config.notifyBatchMs,
      trackingSettleMs: config.trackingSettleMs,
      trackingDigestMs: config.trackingDigestMs,
      sseRecheckMs: config.sseRecheckMs,
      loginRateMax: config.loginRateMax,
      imageProxyRateMax: config.imageProxyRateMax,
      imageProxyAllowHosts: config.imageProxyAllowHosts,
      sync: config.sync,
      trustedAuthservIds: config.trustedAuthservIds,
      oauth: config.oauth,
    },
    verifyMailSettings: (input) => verifyConnectionSettings(input),
    reactions: featureReactions(),
  };
  startFeatures(env);
  return env;
}
