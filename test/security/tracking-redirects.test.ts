/**
 * Click-tracking links are not open redirects: /t/c/<token> redirects only to the destination stored for
 * the signed link id; a tampered or foreign signature, an id swapped under another link's signature, an
 * open token used as a click, extra path or query, a forged Host are all refused or ignored. The
 * signature scheme itself is unit-tested in src/platform/security/tracking-signature.test.ts, the sending side
 * (links rewritten, destinations stored) in test/personal/tracking.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { newId } from '../../src/platform/database/ids.js';
import { signTrackingId } from '../../src/platform/security/tracking-signature.js';

let t: TestApp;
let secret: string;
const links: Array<{ id: string; url: string }> = [];

beforeAll(async () => {
  t = await createTestApp();
  const a = await t.account();
  secret = t.env.secrets.derive('tracking');
  const emailId = newId('pem');
  const urls = ['https://good.example/pricing?utm=1', 'https://good.example/a?next=https%3A%2F%2Fevil.example%2F', 'http://b.example/'];
  for (const [position, url] of urls.entries()) {
    const id = newId('tl');
    await t.database.db.insertInto('tracking_links').values({ id, account_id: a.accountId, personal_email_id: emailId, position, url }).execute();
    links.push({ id, url });
  }
});
afterAll(async () => {
  await t?.close();
});

const click = (path: string, headers: Record<string, string> = {}) => t.app.inject({ method: 'GET', url: path, headers: { 'user-agent': 'Mozilla/5.0', ...headers } });
const token = (id: string, kind: 'open' | 'click' = 'click', key: string = secret) => signTrackingId(kind, id, key);

describe('tracking links cannot redirect elsewhere', () => {
  it('redirects a valid token to exactly the stored destination', async () => {
    for (const l of links) {
      const r = await click(`/t/c/${token(l.id)}`);
      expect(r.statusCode).toBe(302);
      expect(r.headers.location).toBe(l.url);
    }
  });

  it('ignores destinations offered in the query, and a forged Host or forwarding header', async () => {
    const l = links[0]!;
    for (const q of ['?url=https://evil.example/', '?redirect=https%3A%2F%2Fevil.example', '?to=//evil.example&next=javascript:alert(1)', '?url=https://evil.example/&url=https://evil2.example/']) {
      const r = await click(`/t/c/${token(l.id)}${q}`);
      expect([r.statusCode, r.headers.location], q).toEqual([302, l.url]);
    }
    const forged = await click(`/t/c/${token(l.id)}`, { host: 'evil.example', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'http' });
    expect(forged.headers.location).toBe(l.url);
  });

  it('refuses tampered, swapped, foreign, open-kind, unknown and padded tokens with 404 and no Location', async () => {
    const [a, b] = [links[0]!, links[1]!];
    const good = token(a.id);
    const [k, id, mac] = good.split('.') as [string, string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bId = token(b.id).split('.')[1]!;
    const cases: Record<string, string> = {
      'mac changed': `${k}.${id}.${flip(mac, 3)}`,
      'mac truncated': `${k}.${id}.${mac.slice(0, -1)}`,
      'id swapped under another signature': `${k}.${bId}.${mac}`,
      'id changed': `${k}.${flip(id, 2)}.${mac}`,
      'signed with another secret': token(a.id, 'click', 'another-secret-of-32-bytes-long!!'),
      'an open token': token(a.id, 'open'),
      'a link that does not exist': token(newId('tl')),
      'padded with a newline': `${good}%0d%0aLocation:%20https://evil.example`,
      'extra path': `${good}/https://evil.example`,
      'encoded slash': `${good}%2F%2Fevil.example`,
      empty: '',
    };
    for (const [what, tok] of Object.entries(cases)) {
      const r = await click(`/t/c/${tok}`);
      expect(r.statusCode, what).toBe(404);
      expect(r.headers.location, what).toBeUndefined();
      expect(r.json().error.code, what).toBe('not_found');
    }
    // And the reverse: a click token is not a pixel.
    expect((await click(`/t/o/${good}`)).statusCode).toBe(404);
  });

  it('a destination changed in the database is not served from a forged token (the id, not the URL, is signed)', async () => {
    // Tokens carry no URL: the only way to another destination is another stored link id, and those
    // cannot be signed without the key. Nothing in the request can name a destination.
    const l = links[2]!;
    const r = await click(`/t/c/${token(l.id)}?url=${encodeURIComponent(links[0]!.url)}`);
    expect(r.headers.location).toBe(l.url);
  });
});
