/**
 * A real Mailroom HTTP app over a fresh test database (SQLite, or PostgreSQL when DATABASE_URL is set),
 * with helpers to create accounts and call the API as a given user.
 */
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app/http.js';
import { loadConfig } from '../../src/app/config.js';
import { createAccount } from '../../src/features/accounts/commands/createAccount.js';
import type { CommandEnv } from '../../src/platform/context.js';
import { createTestDatabase, type TestDatabase } from './db.js';
import { makeCommandEnv } from '../../src/app/env.js';

export interface TestApp {
  app: FastifyInstance;
  database: TestDatabase;
  env: CommandEnv;
  /** Creates an account with a super admin; returns ids and an API token. */
  account(plan?: string, name?: string): Promise<{ accountId: string; adminUserId: string; token: string; teamId: string; password: string }>;
  /** Calls the API with a Bearer token. */
  api(token: string, method: string, url: string, body?: unknown): Promise<LightMyRequestResponse & { body: string; json: () => any }>;
  close(): Promise<void>;
}

let counter = 0;

export async function createTestApp(opts: { now?: () => number; configEnv?: Record<string, string>; pgPoolSize?: number } = {}): Promise<TestApp> {
  const database = await createTestDatabase(opts.pgPoolSize === undefined ? {} : { pgPoolSize: opts.pgPoolSize });
  const config = loadConfig({ DATA_DIR: database.dataDir, PORT: '0', ...opts.configEnv });
  const env: CommandEnv = await makeCommandEnv(database, config, { now: opts.now ?? (() => Date.now()) });
  const app = await buildApp({ database, config, env, logger: false });
  await app.ready();
  return {
    app,
    database,
    env,
    async account(plan = 'professional', name) {
      counter += 1;
      const password = 'correct horse battery';
      const tag = `${process.pid}-${counter}-${Math.random().toString(36).slice(2, 8)}`;
      const r = await createAccount(env, { name: name ?? `Acme ${tag}`, plan, adminEmail: `admin-${tag}@example.com`, adminName: 'Ada Admin', adminPassword: password });
      return { accountId: r.accountId, adminUserId: r.adminUserId, token: r.apiToken, teamId: r.teamId, password };
    },
    async api(token, method, url, body) {
      const res = await app.inject({
        method: method as never,
        url,
        headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
        ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
      });
      return Object.assign(res, { json: () => JSON.parse(res.body) });
    },
    async close() {
      await app.close();
      await database.drop();
    },
  };
}
