/**
 * A private, real Radicale (CalDAV server, Debian's radicale 3.1.8) for tests: its own config, storage
 * folder and htpasswd users under a fresh temp folder, on a free loopback port. `stop()` ends the
 * process and removes the folder. Under CI a missing Radicale fails the test (requirements.ts).
 *
 *   const radicale = await startRadicale();
 *   await radicale.addUser('sam', 'pw');
 *   const calendarUrl = await radicale.makeCalendar('sam', 'work');
 *   await radicale.putEvent('sam', 'work', 'standup.ics', icsText);
 *   ...
 *   await radicale.stop();
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findTestProgram, type TestProgram } from './requirements.js';

export const RADICALE: TestProgram = { name: 'Radicale (CalDAV server)', paths: ['/usr/bin/radicale', '/usr/local/bin/radicale'], packages: 'radicale' };

/** True when Radicale is installed; false (tests skip) on a developer machine without it; throws under CI. */
export const hasRadicale = () => findTestProgram(RADICALE) !== null;

export interface TestRadicale {
  readonly port: number;
  /** http://127.0.0.1:<port>/ */
  readonly url: string;
  readonly dir: string;
  addUser(name: string, password: string): Promise<void>;
  /** MKCALENDAR /<user>/<name>/; returns its URL. */
  makeCalendar(user: string, name: string): Promise<string>;
  /** PUT an iCalendar object into a calendar; returns its URL. */
  putEvent(user: string, calendar: string, filename: string, ics: string): Promise<string>;
  /** GET a stored object's text (null when missing). */
  getEvent(user: string, calendar: string, filename: string): Promise<string | null>;
  /** Every object's text in a calendar (PROPFIND + GET). */
  listEvents(user: string, calendar: string): Promise<Array<{ href: string; ics: string }>>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Radicale exited (${child.exitCode}): ${log()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`Radicale did not listen on ${port} within ${timeoutMs} ms: ${log()}`);
}

export async function startRadicale(opts: { startTimeoutMs?: number } = {}): Promise<TestRadicale> {
  const bin = findTestProgram(RADICALE);
  if (!bin) throw new Error('Radicale is not installed (use hasRadicale() to skip).');
  const dir = await mkdtemp(join(tmpdir(), 'mailroom-radicale-'));
  const port = await freePort();
  const users = join(dir, 'users');
  await writeFile(users, '');
  await writeFile(
    join(dir, 'config'),
    [
      '[server]',
      `hosts = 127.0.0.1:${port}`,
      '[auth]',
      'type = htpasswd',
      `htpasswd_filename = ${users}`,
      'htpasswd_encryption = plain',
      'delay = 0',
      '[rights]',
      'type = owner_only',
      '[storage]',
      `filesystem_folder = ${join(dir, 'collections')}`,
      '[web]',
      'type = none',
      '[logging]',
      'level = warning',
      '',
    ].join('\n'),
  );
  let output = '';
  const child = spawn(bin, ['--config', join(dir, 'config')], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, HOME: dir } });
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  try {
    await waitForPort(port, child, opts.startTimeoutMs ?? 20_000, () => output);
  } catch (err) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const url = `http://127.0.0.1:${port}/`;
  const passwords = new Map<string, string>();
  const auth = (user: string) => ({ authorization: `Basic ${Buffer.from(`${user}:${passwords.get(user) ?? ''}`).toString('base64')}` });
  const must = async (res: Response, what: string) => {
    if (!res.ok) throw new Error(`Radicale ${what}: ${res.status} ${await res.text()}`);
    return res;
  };
  return {
    port,
    url,
    dir,
    async addUser(name, password) {
      passwords.set(name, password);
      await appendFile(users, `${name}:${password}\n`);
    },
    async makeCalendar(user, name) {
      const target = `${url}${user}/${name}/`;
      const body = `<?xml version="1.0" encoding="utf-8"?><C:mkcalendar xmlns:D="DAV:" xmlns:C="urn:ietf:params:xml:ns:caldav"><D:set><D:prop><D:displayname>${name}</D:displayname><C:supported-calendar-component-set><C:comp name="VEVENT"/></C:supported-calendar-component-set></D:prop></D:set></C:mkcalendar>`;
      await must(await fetch(target, { method: 'MKCALENDAR', headers: { ...auth(user), 'content-type': 'application/xml' }, body }), `MKCALENDAR ${target}`);
      return target;
    },
    async putEvent(user, calendar, filename, ics) {
      const target = `${url}${user}/${calendar}/${filename}`;
      await must(await fetch(target, { method: 'PUT', headers: { ...auth(user), 'content-type': 'text/calendar; charset=utf-8' }, body: ics }), `PUT ${target}`);
      return target;
    },
    async getEvent(user, calendar, filename) {
      const res = await fetch(`${url}${user}/${calendar}/${filename}`, { headers: auth(user) });
      if (res.status === 404) return null;
      return (await must(res, 'GET')).text();
    },
    async listEvents(user, calendar) {
      const res = await must(
        await fetch(`${url}${user}/${calendar}/`, { method: 'PROPFIND', headers: { ...auth(user), depth: '1', 'content-type': 'application/xml' }, body: '<?xml version="1.0"?><D:propfind xmlns:D="DAV:"><D:prop><D:getetag/></D:prop></D:propfind>' }),
        'PROPFIND',
      );
      const hrefs = [...(await res.text()).matchAll(/<(?:\w+:)?href>([^<]+\.ics)<\/(?:\w+:)?href>/g)].map((m) => m[1]!);
      const out: Array<{ href: string; ics: string }> = [];
      for (const href of hrefs) out.push({ href, ics: await (await must(await fetch(new URL(href, url), { headers: auth(user) }), 'GET')).text() });
      return out;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r));
        child.kill('SIGTERM');
        await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}
