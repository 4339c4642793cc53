/**
 * An open event stream keeps checking access: a reader who loses access to the inbox (restricted without
 * them, deactivated, token revoked) gets an `access_revoked` event and the stream ends, and sees no event
 * of the inbox after that.
 */
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { deliver, inboxFixture, member, ok, rawMail } from './support.js';

let t: TestApp;
let address: string;
beforeAll(async () => {
  t = await createTestApp({ configEnv: { MAILROOM_SSE_RECHECK_MS: '100' } });
  address = await t.app.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await t?.close();
});

/** Opens the stream; collects events until the server ends it. */
async function open(inboxId: string, token: string) {
  const events: any[] = [];
  let ended = false;
  let buffer = '';
  const req = http.get(`${address}/api/v1/inboxes/${inboxId}/events`, { headers: { authorization: `Bearer ${token}` } });
  const res = await new Promise<http.IncomingMessage>((resolve, reject) => {
    req.on('response', resolve);
    req.on('error', reject);
  });
  expect(res.statusCode).toBe(200);
  res.setEncoding('utf8');
  res.on('data', (chunk: string) => {
    buffer += chunk;
    let i: number;
    while ((i = buffer.indexOf('\n\n')) >= 0) {
      const data = buffer.slice(0, i).split('\n').find((l) => l.startsWith('data: '));
      buffer = buffer.slice(i + 2);
      if (data) events.push(JSON.parse(data.slice(6)));
    }
  });
  res.on('end', () => (ended = true));
  res.on('close', () => (ended = true));
  const until = async (what: string, cond: () => boolean) => {
    for (let k = 0; k < 200; k++) {
      if (cond()) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`timed out waiting for ${what}; events: ${JSON.stringify(events.map((e) => e.type))}`);
  };
  return { events, ended: () => ended, until, close: () => req.destroy() };
}

describe('event streams check access while open', () => {
  it('a member of an inbox that becomes restricted without them is cut off', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const stream = await open(s.inbox.id, ana.token);
    try {
      const first = await deliver(t, s.conn, rawMail({ subject: 'Before' }));
      await stream.until('the first conversation', () => stream.events.some((e) => e.conversationId === first));
      // Still allowed after several rechecks.
      await new Promise((r) => setTimeout(r, 350));
      expect(stream.ended()).toBe(false);
      await ok(t, s.a.token, 'PATCH', `/api/v1/inboxes/${s.inbox.id}`, { access: 'restricted' });
      await stream.until('the end of the stream', () => stream.ended());
      expect(stream.events.at(-1)).toMatchObject({ type: 'access_revoked', inboxId: s.inbox.id, message: expect.stringMatching(/no longer have access/) });
      const after = await deliver(t, s.conn, rawMail({ subject: 'After' }));
      await new Promise((r) => setTimeout(r, 200));
      expect(stream.events.some((e) => e.conversationId === after)).toBe(false);
    } finally {
      stream.close();
    }
  });

  it('a deactivated user and a revoked token are cut off', async () => {
    const s = await inboxFixture(t);
    const bob = await member(t, s.a, { name: 'Bob' });
    const cat = await member(t, s.a, { name: 'Cat' });
    const bobStream = await open(s.inbox.id, bob.token);
    const catStream = await open(s.inbox.id, cat.token);
    try {
      await ok(t, s.a.token, 'POST', `/api/v1/users/${bob.user.id}/deactivate`);
      await bobStream.until('the end of Bob\'s stream', () => bobStream.ended());
      expect(bobStream.events.at(-1)?.type).toBe('access_revoked');
      expect(catStream.ended()).toBe(false);
      const tokens = await ok(t, cat.token, 'GET', '/api/v1/tokens');
      for (const tok of tokens.tokens) expect((await t.api(cat.token, 'DELETE', `/api/v1/tokens/${tok.id}`)).statusCode).toBe(204);
      await catStream.until('the end of Cat\'s stream', () => catStream.ended());
      expect(catStream.events.at(-1)?.type).toBe('access_revoked');
    } finally {
      bobStream.close();
      catStream.close();
    }
  });
});
