/**
 * Two scheduler PROCESSES on one database (SQLite file, or PostgreSQL with DATABASE_URL) run the same due
 * steps at the same moment: every step is queued in the outbox exactly once.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

function scheduler(now: number, goAt: number): Promise<string[]> {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: t.database.dataDir, LOG_LEVEL: 'silent', NOW: String(now), GO_AT: String(goAt) };
  if (t.database.pgSchema) env.DATABASE_SCHEMA = t.database.pgSchema;
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', path.resolve('test/sequences/scheduler-child.ts')], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').at(-1)!)) : reject(new Error(`scheduler exited ${code}: ${err}`))));
  });
}

describe('two schedulers at once', () => {
  it('queue each due step exactly once', async () => {
    const a = await t.account();
    const conn = await insertConnection(t, {
      accountId: a.accountId,
      userId: a.adminUserId,
      type: 'personal',
      address: `two-${Date.now()}@example.org`,
      imap: { host: 'imap.example.org', port: 993, username: 'm', password: 'pw' },
      smtp: { host: 'smtp.example.org', port: 465, username: 'm', password: 'pw' },
      overrides: { state: 'active' },
    });
    const seq = await t.api(a.token, 'POST', '/api/v1/sequences', {
      name: 'Race',
      settings: { timeZone: 'UTC', window: { start: '00:00', end: '23:59' }, weekdays: [1, 2, 3, 4, 5, 6, 7] },
      steps: [{ type: 'email', subject: 'Hello {{ contact.firstName | "there" }}', html: '<p>Hi</p>' }, { type: 'email', delay: { unit: 'business_days', value: 1 }, html: '<p>Again</p>' }],
    });
    expect(seq.statusCode, seq.body).toBe(201);
    const ids: string[] = [];
    for (let i = 0; i < 40; i++) {
      const c = await t.api(a.token, 'POST', '/api/v1/contacts', { firstName: `C${i}`, emails: [`c${i}-${Date.now()}@client.test`] });
      const e = await t.api(a.token, 'POST', `/api/v1/sequences/${seq.json().id}/enrollments`, { contactId: c.json().id, connectionId: conn.id });
      expect(e.statusCode, e.body).toBe(201);
      ids.push(e.json().id);
    }
    const now = Date.now() + 1000;
    const goAt = Date.now() + 4000;
    const [x, y] = await Promise.all([scheduler(now, goAt), scheduler(now, goAt)]);
    const queued = [...x, ...y].filter((o) => o === 'queued').length;
    expect(queued).toBe(40);
    const runs = await t.database.db.selectFrom('sequence_steps_run').select(['enrollment_id', 'step_index', 'outbox_id']).where('enrollment_id', 'in', ids).execute();
    expect(runs).toHaveLength(40);
    expect(new Set(runs.map((r) => r.enrollment_id)).size).toBe(40);
    const outbox = await t.database.db.selectFrom('outbox').select('id').where('connection_id', '=', conn.id).execute();
    expect(outbox).toHaveLength(40);
    // Both ran (each found the due enrollments; whichever updated first ran the step).
    expect(x.length + y.length).toBeGreaterThan(40);
  }, 60_000);
});
