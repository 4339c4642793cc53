import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import {
  AllowListError,
  HostNotAllowedError,
  InvalidHostError,
  SafeFetchError,
  isSafeImageContentType,
  parseAllowListText,
  setAllowPrivateHosts,
  normaliseHost,
  parseAllowList,
  pinnedLookup,
  resolveSafeHost,
  safeFetch,
  systemLookup,
  tlsServername,
  type LookupAll,
} from './host-guard.js';

/** A resolver answering from a table, for names that do not exist in real DNS. */
function fakeDns(table: Record<string, string[]>): LookupAll {
  return async (name) => {
    const addrs = table[name];
    if (!addrs) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
    return addrs.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

async function refusal(p: Promise<unknown>): Promise<HostNotAllowedError> {
  const err = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(HostNotAllowedError);
  return err as HostNotAllowedError;
}

describe('resolveSafeHost refuses non-public destinations', () => {
  const refused: Array<[string, string, string]> = [
    ['localhost', '127.0.0.1', 'loopback'],
    ['LOCALHOST.', '127.0.0.1', 'loopback'],
    ['imap.localhost', '127.0.0.1', 'loopback'],
    ['127.0.0.1', '127.0.0.1', 'loopback'],
    ['127.0.0.2', '127.0.0.2', 'loopback'],
    ['2130706433', '127.0.0.1', 'loopback'],
    ['0x7f.1', '127.0.0.1', 'loopback'],
    ['017700000001', '127.0.0.1', 'loopback'],
    ['[::1]', '::1', 'loopback'],
    ['::1', '::1', 'loopback'],
    ['[::ffff:127.0.0.1]', '127.0.0.1', 'loopback'],
    ['169.254.169.254', '169.254.169.254', 'metadata'],
    ['[fd00:ec2::254]', 'fd00:ec2::254', 'metadata'],
    ['10.0.0.5', '10.0.0.5', 'private'],
    ['192.168.0.1', '192.168.0.1', 'private'],
    ['[fd00::1]', 'fd00::1', 'private'],
    ['[fe80::1]', 'fe80::1', 'link_local'],
    ['0.0.0.0', '0.0.0.0', 'unspecified'],
    ['0', '0.0.0.0', 'unspecified'],
    ['100.64.0.1', '100.64.0.1', 'cgnat'],
    ['255.255.255.255', '255.255.255.255', 'broadcast'],
  ];
  it.each(refused)('%s', async (host, address, cls) => {
    const err = await refusal(resolveSafeHost(host, { allowHosts: [], lookup: fakeDns({}) }));
    expect(err.code).toBe('host_not_allowed');
    expect(err.address).toBe(address);
    expect(err.addressClass).toBe(cls);
  });

  it('names the host, the address and the way out', async () => {
    const err = await refusal(
      resolveSafeHost('imap.corp.example', { allowHosts: [], lookup: fakeDns({ 'imap.corp.example': ['10.0.0.5'] }) }),
    );
    expect(err.message).toBe(
      'imap.corp.example resolves to a private address (10.0.0.5); Mailroom refuses private, loopback and ' +
        'link-local destinations. An operator can allow it with MAILROOM_ALLOW_PRIVATE_HOSTS.',
    );
    const literal = await refusal(resolveSafeHost('10.0.0.5', { allowHosts: [] }));
    expect(literal.message).toMatch(/^10\.0\.0\.5 is a private address; Mailroom refuses/);
  });

  it('refuses a name when ANY of its addresses is not public (no partial pass)', async () => {
    const lookup = fakeDns({ 'mixed.test': ['93.184.216.34', '127.0.0.1'], 'mixed6.test': ['2606:4700::1', '::1'] });
    expect((await refusal(resolveSafeHost('mixed.test', { allowHosts: [], lookup }))).address).toBe('127.0.0.1');
    expect((await refusal(resolveSafeHost('mixed6.test', { allowHosts: [], lookup }))).address).toBe('::1');
  });

  it('judges an IPv4-mapped answer by its IPv4 address', async () => {
    const lookup = fakeDns({ 'mapped.test': ['::ffff:169.254.169.254'] });
    const err = await refusal(resolveSafeHost('mapped.test', { allowHosts: [], lookup }));
    expect(err.addressClass).toBe('metadata');
    expect(err.address).toBe('169.254.169.254');
  });

  it('the system resolver maps localhost to loopback, which is refused', async () => {
    const found = await systemLookup('localhost');
    expect(found.length).toBeGreaterThan(0);
    for (const a of found) expect(['127.0.0.1', '::1']).toContain(a.address);
    await refusal(resolveSafeHost('localhost', { allowHosts: [], lookup: systemLookup }));
    // getaddrinfo itself accepts the numeric spellings; they are refused whichever path they take.
    expect((await systemLookup('2130706433'))[0]!.address).toBe('127.0.0.1');
    await refusal(resolveSafeHost('0x7f.1', { allowHosts: [], lookup: systemLookup }));
  });

  it('refuses text that is not a host', async () => {
    for (const bad of ['', ' ', 'a b', 'evil.com/x', 'user@host', 'host:25', '[not-ip]', 'a..b', '-', 'x'.repeat(300)]) {
      await expect(resolveSafeHost(bad, { allowHosts: [] }), bad).rejects.toBeInstanceOf(InvalidHostError);
    }
  });

  it('lets DNS errors through unchanged', async () => {
    await expect(resolveSafeHost('nowhere.test', { allowHosts: [], lookup: fakeDns({}) })).rejects.toMatchObject({
      code: 'ENOTFOUND',
    });
  });
});

describe('resolveSafeHost accepts public destinations and returns the address to pin', () => {
  it('returns every checked address, the first to connect to', async () => {
    const lookup = fakeDns({ 'imap.example.com': ['2a00:1450::1', '93.184.216.34'] });
    const safe = await resolveSafeHost('IMAP.Example.com.', { allowHosts: [], lookup });
    expect(safe).toEqual({
      host: 'imap.example.com',
      address: '2a00:1450::1',
      family: 6,
      addresses: [
        { address: '2a00:1450::1', family: 6 },
        { address: '93.184.216.34', family: 4 },
      ],
      allowListed: false,
    });
    expect(tlsServername(safe)).toBe('imap.example.com');
  });

  it('takes IP literals without DNS', async () => {
    const safe = await resolveSafeHost('8.8.8.8', { allowHosts: [], lookup: fakeDns({}) });
    expect(safe.address).toBe('8.8.8.8');
    expect(tlsServername(safe)).toBeUndefined();
  });

  it('converts IDN names to ASCII before resolving', async () => {
    const lookup = fakeDns({ 'xn--bcher-kva.example': ['93.184.216.34'] });
    expect((await resolveSafeHost('Bücher.example', { allowHosts: [], lookup })).host).toBe('xn--bcher-kva.example');
  });
});

describe('operator allow-list', () => {
  const lookup = fakeDns({
    'imap.corp.test': ['10.0.0.5'],
    'smtp.corp.test': ['10.0.0.6'],
    'other.test': ['10.9.9.9'],
    'meta.corp.test': ['169.254.169.254'],
  });

  const table: Array<[string, string[], boolean]> = [
    ['127.0.0.1', ['127.0.0.1'], true],
    ['127.0.0.1', ['127.0.0.2'], false],
    ['[::ffff:127.0.0.1]', ['127.0.0.1'], true],
    ['localhost', ['localhost'], true],
    ['localhost', ['127.0.0.1'], false], // ::1 is not allowed
    ['localhost', ['127.0.0.1', '::1'], true],
    ['10.1.2.3', ['10.0.0.0/8'], true],
    ['11.0.0.1', ['10.0.0.0/8'], true], // public anyway
    ['172.16.0.1', ['10.0.0.0/8'], false],
    ['imap.corp.test', ['10.0.0.0/8'], true],
    ['imap.corp.test', ['imap.corp.test'], true],
    ['imap.corp.test', ['IMAP.CORP.TEST.'], true],
    ['smtp.corp.test', ['imap.corp.test'], false],
    ['smtp.corp.test', ['*.corp.test'], true],
    ['other.test', ['*.corp.test'], false],
    ['[fd00::5]', ['fd00::/8'], true],
    ['[fe80::5]', ['fd00::/8'], false],
    // Metadata endpoints need an entry naming that exact IP.
    ['169.254.169.254', ['169.254.0.0/16'], false],
    ['169.254.169.254', ['0.0.0.0/0'], false],
    ['meta.corp.test', ['meta.corp.test'], false],
    ['169.254.169.254', ['169.254.169.254'], true],
    ['169.254.1.1', ['169.254.0.0/16'], true],
  ];
  it.each(table)('%s with %j allowed: %s', async (host, allow, ok) => {
    const p = resolveSafeHost(host, { allowHosts: allow, lookup });
    if (ok) expect((await p).allowListed || host === '11.0.0.1').toBe(true);
    else await refusal(p);
  });

  it('parseAllowListText reads the MAILROOM_ALLOW_PRIVATE_HOSTS text', () => {
    const list = parseAllowListText(' imap.corp.test, 10.0.0.0/8 ,*.lan,::1  fd00::/8,,');
    expect([...list.hosts]).toEqual(['imap.corp.test']);
    expect(list.suffixes).toEqual(['.lan']);
    expect(list.cidrs.map((c) => c.text)).toEqual(['10.0.0.0/8', '::1/128', 'fd00::/8']);
    expect(parseAllowListText('').cidrs).toEqual([]);
    expect(parseAllowListText('  ').hosts.size).toBe(0);
  });

  it.each(['10.0.0.0/33', 'a b/8', 'http://x', 'user@host', '*.', '*.10.0.0.1'])('refuses the entry %s', (entry) => {
    expect(() => parseAllowList([entry])).toThrow(AllowListError);
    expect(() => parseAllowListText(entry)).toThrow(/MAILROOM_ALLOW_PRIVATE_HOSTS/);
  });

  it("defaults to the process's allow-list (set at startup from the config) when no list is passed", async () => {
    try {
      setAllowPrivateHosts(['127.0.0.1']);
      expect((await resolveSafeHost('127.0.0.1')).address).toBe('127.0.0.1');
      setAllowPrivateHosts([]);
      await refusal(resolveSafeHost('127.0.0.1'));
    } finally {
      setAllowPrivateHosts([]);
    }
  });
});

describe('normaliseHost', () => {
  it.each([
    ['Mail.Example.COM.', 'mail.example.com'],
    ['  mail.example.com ', 'mail.example.com'],
    ['[::1]', '::1'],
    ['[::FFFF:127.0.0.1]', '127.0.0.1'],
    ['0x7f.1', '127.0.0.1'],
    ['bücher.example', 'xn--bcher-kva.example'],
    ['_imaps._tcp.example.com', '_imaps._tcp.example.com'],
    ['evil.com/@good.com', null],
    ['evil.com#x', null],
    ['a\u0000b', null],
    ['', null],
  ] as const)('%j -> %j', (input, out) => {
    expect(normaliseHost(input)).toBe(out);
  });
});

describe('pinnedLookup', () => {
  const safe = {
    host: 'imap.example.com',
    address: '2a00:1450::1',
    family: 6 as const,
    addresses: [
      { address: '2a00:1450::1', family: 6 as const },
      { address: '93.184.216.34', family: 4 as const },
    ],
    allowListed: false,
  };
  const call = (host: string, options: object) =>
    new Promise<{ err: NodeJS.ErrnoException | null; address: string | LookupAddress[]; family?: number }>((resolve) =>
      pinnedLookup(safe)(host, options, (err, address, family) => resolve({ err, address, family })),
    );

  it('answers only with the checked addresses', async () => {
    expect(await call('imap.example.com', {})).toMatchObject({ err: null, address: '2a00:1450::1', family: 6 });
    expect(await call('IMAP.example.com.', { family: 4 })).toMatchObject({ address: '93.184.216.34', family: 4 });
    expect((await call('imap.example.com', { all: true })).address).toEqual(safe.addresses);
    expect((await call('imap.example.com', { all: true, family: 4 })).address).toEqual([safe.addresses[1]]);
  });

  it('refuses to resolve any other name', async () => {
    const r = await call('evil.example.com', {});
    expect(r.err?.code).toBe('ENOTFOUND');
  });
});

describe('safeFetch', () => {
  const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
  let server: http.Server;
  let port: number;
  let base: string;
  const hits: string[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const path = req.url ?? '/';
      hits.push(path);
      const m = /^\/chain\/(\d+)$/.exec(path);
      if (m) {
        const n = Number(m[1]);
        if (n === 0) return void res.writeHead(200, { 'content-type': 'image/png' }).end(PNG);
        return void res.writeHead(302, { location: `/chain/${n - 1}` }).end();
      }
      switch (path) {
        case '/img.png':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': PNG.length });
          return void res.end(PNG);
        case '/headers':
          res.writeHead(200, { 'content-type': 'image/png' });
          return void res.end(JSON.stringify(req.headers));
        case '/page.html':
          return void res.writeHead(200, { 'content-type': 'text/html' }).end('<script>alert(1)</script>');
        case '/img.svg':
          return void res.writeHead(200, { 'content-type': 'image/svg+xml' }).end('<svg onload="alert(1)"/>');
        case '/no-type':
          return void res.writeHead(200).end(PNG);
        case '/big-declared':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': 6 * 1024 * 1024 });
          return void res.end();
        case '/big-chunked': {
          res.writeHead(200, { 'content-type': 'image/jpeg' });
          const chunk = Buffer.alloc(64 * 1024);
          let sent = 0;
          const pump = () => {
            while (sent < 200) {
              sent++;
              if (!res.write(chunk)) return void res.once('drain', pump);
            }
            res.end();
          };
          return void pump();
        }
        case '/redirect-metadata':
          return void res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end();
        case '/redirect-private':
          return void res.writeHead(301, { location: 'http://10.0.0.5/x.png' }).end();
        case '/redirect-name-private':
          return void res.writeHead(307, { location: 'http://intranet.test/x.png' }).end();
        case '/redirect-ftp':
          return void res.writeHead(302, { location: 'ftp://example.com/x.png' }).end();
        case '/redirect-smtp':
          return void res.writeHead(302, { location: 'http://127.0.0.1:25/' }).end();
        case '/redirect-js':
          return void res.writeHead(302, { location: 'javascript:alert(1)' }).end();
        case '/loop':
          return void res.writeHead(302, { location: '/loop' }).end();
        case '/missing':
          return void res.writeHead(404, { 'content-type': 'image/png' }).end();
        case '/slow':
          return; // never answers
        case '/slow-body':
          res.writeHead(200, { 'content-type': 'image/png' });
          return void res.write(PNG); // never ends
        default:
          return void res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    base = `http://127.0.0.1:${port}`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const allow = { allowHosts: ['127.0.0.1'] };

  async function fetchError(url: string, opts: Parameters<typeof safeFetch>[1] = allow): Promise<unknown> {
    return safeFetch(url, opts).then(
      () => null,
      (e: unknown) => e,
    );
  }

  it('refuses a server on 127.0.0.1 without the allow-list, and never connects', async () => {
    hits.length = 0;
    const err = await fetchError(`${base}/img.png`, { allowHosts: [] });
    expect(err).toBeInstanceOf(HostNotAllowedError);
    expect(hits).toEqual([]);
    const localhost = await fetchError(`http://localhost:${port}/img.png`, { allowHosts: [] });
    expect(localhost).toBeInstanceOf(HostNotAllowedError);
    const decimal = await fetchError(`http://2130706433:${port}/img.png`, { allowHosts: [] });
    expect(decimal).toBeInstanceOf(HostNotAllowedError);
    expect(hits).toEqual([]);
  });

  it('serves it when the operator allows 127.0.0.1', async () => {
    const r = await safeFetch(`${base}/img.png`, allow);
    expect(r.status).toBe(200);
    expect(r.contentType).toBe('image/png');
    expect(r.body.equals(PNG)).toBe(true);
    expect(r.redirects).toEqual([]);
  });

  it('connects to the checked address, not whatever the system resolver says (pinning)', async () => {
    // "images.test" does not exist in real DNS; only the pinned lookup can make this connect.
    const lookup = fakeDns({ 'images.test': ['127.0.0.1'] });
    const r = await safeFetch(`http://images.test:${port}/img.png`, { allowHosts: ['127.0.0.1'], lookup });
    expect(r.body.equals(PNG)).toBe(true);
    const headers = JSON.parse(
      (await safeFetch(`http://images.test:${port}/headers`, { allowHosts: ['127.0.0.1'], lookup })).body.toString(),
    );
    expect(headers.host).toBe(`images.test:${port}`);
    expect(headers.cookie).toBeUndefined();
    expect(headers.authorization).toBeUndefined();
  });

  it('follows up to 3 redirects, re-checking each hop', async () => {
    const r = await safeFetch(`${base}/chain/3`, allow);
    expect(r.redirects).toEqual([`${base}/chain/2`, `${base}/chain/1`, `${base}/chain/0`]);
    expect(r.url).toBe(`${base}/chain/0`);
    expect(await fetchError(`${base}/chain/4`)).toMatchObject({ code: 'too_many_redirects' });
    expect(await fetchError(`${base}/loop`)).toMatchObject({ code: 'too_many_redirects' });
    expect(await fetchError(`${base}/chain/1`, { ...allow, maxRedirects: 0 })).toMatchObject({ code: 'too_many_redirects' });
  });

  it.each([
    ['/redirect-metadata', HostNotAllowedError, 'host_not_allowed'],
    ['/redirect-private', HostNotAllowedError, 'host_not_allowed'],
    ['/redirect-name-private', HostNotAllowedError, 'host_not_allowed'],
    ['/redirect-ftp', SafeFetchError, 'scheme_not_allowed'],
    ['/redirect-js', SafeFetchError, 'scheme_not_allowed'],
    ['/redirect-smtp', SafeFetchError, 'port_not_allowed'],
  ] as const)('refuses the redirect %s', async (path, type, code) => {
    const lookup = fakeDns({ 'intranet.test': ['192.168.1.10'] });
    const err = await fetchError(`${base}${path}`, { ...allow, lookup });
    expect(err).toBeInstanceOf(type);
    expect(err).toMatchObject({ code });
  });

  it.each([
    ['/page.html', 'content_type_not_allowed'],
    ['/img.svg', 'content_type_not_allowed'],
    ['/no-type', 'content_type_not_allowed'],
    ['/big-declared', 'too_large'],
    ['/big-chunked', 'too_large'],
    ['/missing', 'upstream_status'],
  ])('refuses %s (%s)', async (path, code) => {
    expect(await fetchError(`${base}${path}`)).toMatchObject({ code });
  });

  it('caps the size at maxBytes', async () => {
    expect(await fetchError(`${base}/img.png`, { ...allow, maxBytes: 4 })).toMatchObject({ code: 'too_large' });
  });

  it('times out as a whole', async () => {
    const started = Date.now();
    expect(await fetchError(`${base}/slow`, { ...allow, timeoutMs: 300 })).toMatchObject({ code: 'timeout' });
    expect(await fetchError(`${base}/slow-body`, { ...allow, timeoutMs: 300 })).toMatchObject({ code: 'timeout' });
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('refuses what is not an http(s) URL to fetch', async () => {
    expect(await fetchError('file:///etc/passwd')).toMatchObject({ code: 'scheme_not_allowed' });
    expect(await fetchError('gopher://127.0.0.1:70/')).toMatchObject({ code: 'scheme_not_allowed' });
    expect(await fetchError('data:image/png;base64,AAAA')).toMatchObject({ code: 'scheme_not_allowed' });
    expect(await fetchError('not a url')).toMatchObject({ code: 'invalid_url' });
    expect(await fetchError(`http://user:pw@127.0.0.1:${port}/img.png`)).toMatchObject({ code: 'invalid_url' });
    expect(await fetchError('http://127.0.0.1:25/')).toMatchObject({ code: 'port_not_allowed' });
    expect(await fetchError('https://127.0.0.1:993/')).toMatchObject({ code: 'port_not_allowed' });
  });

  it('reports connection failures as network_error', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const p = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await fetchError(`http://127.0.0.1:${p}/`)).toMatchObject({ code: 'network_error' });
  });

  it('isSafeImageContentType', () => {
    expect(isSafeImageContentType('image/png')).toBe(true);
    expect(isSafeImageContentType('IMAGE/JPEG; charset=binary')).toBe(true);
    expect(isSafeImageContentType('image/webp')).toBe(true);
    expect(isSafeImageContentType('image/svg+xml')).toBe(false);
    expect(isSafeImageContentType('text/html')).toBe(false);
    expect(isSafeImageContentType('')).toBe(false);
    expect(isSafeImageContentType('image/')).toBe(false);
  });
});
