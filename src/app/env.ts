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
import { featureReactions, startFeatures } from './features.js';

export async function makeCommandEnv(database: Database, config: Config, opts: { now?: () => number; env?: NodeJS.ProcessEnv } = {}): Promise<CommandEnv> {
  const key = await loadOrCreateKey({ env: opts.env ?? process.env, dataDir: config.dataDir });
  const env: CommandEnv = {
    db: database.db,
    dialect: database.dialect,
    now: opts.now ?? systemClock,
    secrets: { seal: (p) => seal(p, key), open: (s) => open(s, key), derive: (purpose) => deriveKey(key, purpose).toString('hex') },
    settings: { inboundDomain: config.inboundDomain, publicUrl: config.publicUrl, dataDir: config.dataDir, notifySmtpUrl: config.notifySmtpUrl, notifyFrom: config.notifyFrom },
    verifyMailSettings: (input) => verifyConnectionSettings(input),
    reactions: featureReactions(),
  };
  startFeatures(env);
  return env;
}
