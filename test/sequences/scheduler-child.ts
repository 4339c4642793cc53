/**
 * A scheduler in its own process, for the two-schedulers test: opens the database the test uses
 * (DATA_DIR; DATABASE_URL + DATABASE_SCHEMA for PostgreSQL), waits until GO_AT (both children start
 * together), runs one scheduler pass at the clock NOW, and prints its outcomes as JSON.
 */
import { loadConfig } from '../../src/app/config.js';
import { openDatabase } from '../../src/platform/database/database.js';
import { applyProcessSettings, makeCommandEnv } from '../../src/app/env.js';
import { createIngestor } from '../../src/app/engine.js';
import { runDueSteps } from '../../src/features/sequences/commands/runDueSteps.js';

const config = loadConfig();
applyProcessSettings(config);
const database = await openDatabase({ databaseUrl: config.databaseUrl, pgSchema: config.databaseSchema, dataDir: config.dataDir });
const now = Number(process.env.NOW);
const env = await makeCommandEnv(database, config, { now: () => now });
const ingestor = createIngestor(env);
const goAt = Number(process.env.GO_AT);
if (goAt > Date.now()) await new Promise((r) => setTimeout(r, goAt - Date.now()));
const r = await runDueSteps(env, { putBlob: (raw) => ingestor.blobs.put(raw), replyTokenSecret: ingestor.replyTokenSecret });
process.stdout.write(`${JSON.stringify(r.outcomes)}\n`);
await database.close();
process.exit(0);
