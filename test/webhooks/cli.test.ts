/**
 * `mailroom webhooks list|add|remove|test|replay|rotate-secret` as separate processes on the test
 * database (SQLite, or PostgreSQL with DATABASE_URL), with deliveries run in this process to a local
 * receiver: the CLI uses the feature's commands, so the API sees what it did and the other way round.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { setPrivateHostsForTest } from '../support/local-hosts.js';
import { claimJobs, completeJob, requeueJob } from '../../src/platform/jobs/queue.js';
import { RunAgain } from '../../src/platform/jobs/worker.js';
import { webhooksFeature } from '../../src/features/webhooks/index.js';

let t: TestApp;
let server: http.Server;
let url = '';
const received: string[] = [];
let restoreHosts: () => void;

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: t.database.dataDir, LOG_LEVEL: 'warn', MAILROOM_ADMIN_EMAIL: '', MAILROOM_ADMIN_PASSWORD: '' };
  if (t.database.pgSchema) env.DATABASE_SCHEMA = t.database.pgSchema;
  else env.DATABASE_URL = '';
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.resolve('src/app/cli.ts'), 'webhooks', ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout!.on('data', (d) => (stdout += d));
    p.stderr!.on('data', (d) => (stderr += d));
    p.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}
const ok = async (args: string[]) => {
  const r = await cli(args);
  expect(r.code, r.stderr).toBe(0);
  return JSON.parse(r.stdout);
};

/** Runs the webhooks jobs that are due (what a worker does). */
async function drain() {
  const handlers = webhooksFeature().jobs();
  const log = pino({ level: 'silent' });
  for (let round = 0; round < 50; round++) {
    const jobs = (await claimJobs(t.env.db, t.env.dialect, { queues: ['default', 'webhooks'], workerId: 'test', lockMs: 60_000, limit: 20, now: Date.now() })).filter((j) => j.kind !== 'webhooks.cleanup');
    if (!jobs.length) return;
    for (const job of jobs) {
      try {
        await (handlers as Record<string, (p: unknown, ctx: never) => Promise<void>>)[job.kind]?.(JSON.parse(job.payload), { env: t.env, job, workerId: 'test', log, signal: new AbortController().signal } as never);
        await completeJob(t.env.db, job.id, 'test', Date.now());
      } catch (err) {
        if (err instanceof RunAgain) await requeueJob(t.env.db, job, 'test', Date.now() + err.delayMs);
        else throw err;
      }
    }
  }
}

beforeAll(async () => {
  t = await createTestApp();
  restoreHosts = setPrivateHostsForTest(['127.0.0.1']);
  server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      received.push(`${req.headers['webhook-id']} ${JSON.parse(body).type}`);
      res.end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  restoreHosts?.();
  await new Promise((r) => server.close(r));
  await t?.close();
});

describe('mailroom webhooks', () => {
  it('add, list, test, replay (one delivery and a range), rotate-secret, remove', async () => {
    const a = await t.account();
    const added = await ok(['add', url, '--account', a.accountId, '--events', 'contact.created,contact.deleted', '--description', 'from the CLI', '--payload', 'full']);
    expect(added).toMatchObject({ url, eventTypes: ['contact.created', 'contact.deleted'], description: 'from the CLI', payload: 'full', enabled: true });
    expect(added.secret).toMatch(/^whsec_/);
    const api = (await t.api(a.token, 'GET', '/api/v1/webhooks')).json().endpoints;
    expect(api.map((e: { id: string }) => e.id)).toEqual([added.id]);
    const listed = await ok(['list', '--account', a.accountId]);
    expect(listed.endpoints).toHaveLength(1);
    expect(listed.endpoints[0].secret).toBeUndefined();

    const bad = await cli(['add', url, '--account', a.accountId, '--events', 'contact.exploded']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/invalid_request.*contact\.exploded/);

    const test = await ok(['test', added.id, '--account', a.accountId]);
    expect(test.eventId).toMatch(/^evt_/);
    await drain();
    expect(received).toHaveLength(1);
    const [deliveryId, type] = received[0]!.split(' ');
    expect(type).toBe('webhook.test');

    const one = await ok(['replay', added.id, '--account', a.accountId, '--delivery', deliveryId!]);
    expect(one).toMatchObject({ id: deliveryId, state: 'pending' });
    await drain();
    expect(received).toEqual([`${deliveryId} webhook.test`, `${deliveryId} webhook.test`]);
    const range = await ok(['replay', added.id, '--account', a.accountId, '--since', new Date(Date.now() - 3_600_000).toISOString()]);
    expect(range).toEqual({ replayed: 1 });
    expect((await cli(['replay', added.id, '--account', a.accountId])).code).toBe(2);

    const rotated = await ok(['rotate-secret', added.id, '--account', a.accountId, '--overlap-hours', '1']);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(added.secret);
    expect(rotated.previousSecretExpiresAt).toEqual(expect.any(String));

    expect(await ok(['remove', added.id, '--account', a.accountId])).toEqual({ removed: added.id });
    expect((await ok(['list', '--account', a.accountId])).endpoints).toEqual([]);
  }, 120_000);
});
