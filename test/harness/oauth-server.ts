/**
 * A real OAuth 2.0 / OpenID Connect server for tests: `oidc-provider` on a free loopback port, with its
 * development login and consent pages (any login is accepted; the test "is" the user), the device
 * authorization flow, PKCE, refresh tokens rotated on every use, and userinfo returning the email of
 * the account. Nothing about the protocol is faked: Mailroom talks to it exactly as to Google or Entra.
 *
 *   const idp = await startOAuthServer({ redirectUris: ['http://localhost:3000/oauth/callback'] });
 *   idp.addAccount('alice', 'alice@example.test');
 *   const callbackUrl = await idp.signInAndConsent(authorizationUrl, 'alice');   // plays the user
 *   await idp.approveDevice(userCode, 'alice');                                   // device flow
 *   idp.revokeAccount('alice');                  // every refresh token of alice now gets invalid_grant
 *   idp.revokeAccessTokens('alice');             // alice's access tokens are refused (refresh still works)
 *   await idp.stop();
 *
 * Dovecot's oauth2 passdb can validate its access tokens with `dovecotOAuth2Config()` (the userinfo
 * endpoint in introspection_mode = auth, the username compared with the `email` claim).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider, { type Adapter, type AdapterPayload } from 'oidc-provider';

const HOST = '127.0.0.1';

export interface StartOAuthServerOptions {
  /** Redirect URIs registered for the client. */
  redirectUris: string[];
  /** Access token lifetime in seconds. Default 3600. */
  accessTokenTtl?: number;
  /** Refresh token lifetime in seconds. Default 14 days. */
  refreshTokenTtl?: number;
  /** Device code lifetime in seconds. Default 600. */
  deviceCodeTtl?: number;
  /**
   * Device flow polling interval in seconds, announced in the device authorization response and enforced
   * as RFC 8628 says: a poll sooner than the interval after the previous one gets `slow_down` (and the
   * interval grows by 5 s). oidc-provider itself neither announces nor enforces one. Default 5.
   */
  deviceIntervalS?: number;
}

export interface TestOAuthServer {
  /** The issuer (discovery at `${issuer}/.well-known/openid-configuration`). */
  readonly issuer: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly userinfoUrl: string;
  /** Requests to the token endpoint so far, by grant_type. */
  readonly tokenCalls: { authorization_code: number; refresh_token: number; device_code: number; slow_down: number; total: number };
  addAccount(login: string, email: string): void;
  /** Lifetime of access tokens issued from now on, in seconds. */
  setAccessTokenTtl(seconds: number): void;
  /** Follows an authorization URL as a browser would: signs in as `login`, consents, returns the redirect (callback) URL. */
  signInAndConsent(authorizationUrl: string, login: string): Promise<string>;
  /** Enters a device flow's user code at the verification page, signs in as `login` and consents. */
  approveDevice(userCode: string, login: string): Promise<void>;
  /** Revokes every grant and token of an account (as a password change or an admin would): refreshes get invalid_grant. */
  revokeAccount(login: string): Promise<void>;
  /** Ends the account's access tokens only (as their expiry would): userinfo refuses them, refresh tokens still work. */
  revokeAccessTokens(login: string): Promise<void>;
  /** True when userinfo says `accessToken` is valid and belongs to `email` (for the SMTP server's XOAUTH2). */
  tokenBelongsTo(email: string, accessToken: string): Promise<boolean>;
  /** Lines for Dovecot's passdb oauth2 args file. */
  dovecotOAuth2Config(): string;
  stop(): Promise<void>;
}

/** A Map-based adapter (the provider's storage), so that the test can revoke an account's grants. */
function storage() {
  const items = new Map<string, { payload: AdapterPayload; expiresAt: number }>();
  const k = (model: string, id: string) => `${model}:${id}`;
  class MapAdapter implements Adapter {
    constructor(private readonly model: string) {}
    async upsert(id: string, payload: AdapterPayload, expiresIn: number) {
      items.set(k(this.model, id), { payload, expiresAt: expiresIn ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY });
    }
    async find(id: string) {
      const v = items.get(k(this.model, id));
      if (!v || v.expiresAt < Date.now()) return undefined;
      return v.payload;
    }
    async findByUserCode(userCode: string) {
      for (const [key, v] of items) if (key.startsWith(`${this.model}:`) && v.payload.userCode === userCode && v.expiresAt >= Date.now()) return v.payload;
      return undefined;
    }
    async findByUid(uid: string) {
      for (const [key, v] of items) if (key.startsWith(`${this.model}:`) && v.payload.uid === uid && v.expiresAt >= Date.now()) return v.payload;
      return undefined;
    }
    async consume(id: string) {
      const v = items.get(k(this.model, id));
      if (v) v.payload.consumed = Math.floor(Date.now() / 1000);
    }
    async destroy(id: string) {
      items.delete(k(this.model, id));
    }
    async revokeByGrantId(grantId: string) {
      for (const [key, v] of items) if (v.payload.grantId === grantId) items.delete(key);
    }
  }
  return {
    MapAdapter,
    revokeAccount(accountId: string) {
      for (const [key, v] of items) if (v.payload.accountId === accountId) items.delete(key);
    },
    revokeAccessTokens(accountId: string) {
      for (const [key, v] of items) if (key.startsWith('AccessToken:') && v.payload.accountId === accountId) items.delete(key);
    },
  };
}

/** A tiny cookie jar for following the provider's pages with fetch. */
class Browser {
  private cookies = new Map<string, string>();
  async go(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size) headers.set('cookie', [...this.cookies].map(([n, v]) => `${n}=${v}`).join('; '));
    const res = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      const name = pair!.slice(0, i).trim();
      const value = pair!.slice(i + 1).trim();
      if (/expires=Thu, 01 Jan 1970/i.test(c) || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return res;
  }
  post(url: string, form: Record<string, string>): Promise<Response> {
    return this.go(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form).toString() });
  }
}

function hiddenInputs(html: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
    const name = /name="([^"]+)"/.exec(m[0])?.[1];
    const value = /value="([^"]*)"/.exec(m[0])?.[1];
    if (name) out[name] = value ?? '';
  }
  return out;
}

export async function startOAuthServer(opts: StartOAuthServerOptions): Promise<TestOAuthServer> {
  const accounts = new Map<string, string>();
  const store = storage();
  const tokenCalls = { authorization_code: 0, refresh_token: 0, device_code: 0, slow_down: 0, total: 0 };
  const devicePolls = new Map<string, { at: number; intervalMs: number }>();
  let accessTokenTtl = opts.accessTokenTtl ?? 3600;
  const accessTokenLifetime = () => accessTokenTtl;
  const clientId = 'mailroom-test';
  const clientSecret = 'mailroom-test-secret-0123456789abcdef';

  const http: Server = createServer();
  await new Promise<void>((r) => http.listen(0, HOST, r));
  const port = (http.address() as AddressInfo).port;
  const issuer = `http://${HOST}:${port}`;

  const provider = new Provider(issuer, {
    adapter: store.MapAdapter,
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: opts.redirectUris,
        grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
        response_types: ['code'],
        token_endpoint_auth_method: 'client_secret_post',
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'] },
    scopes: ['openid', 'email', 'offline_access', 'mail'],
    features: { devInteractions: { enabled: true }, deviceFlow: { enabled: true }, revocation: { enabled: true } },
    pkce: { required: () => true },
    ttl: {
      AccessToken: accessTokenLifetime,
      RefreshToken: opts.refreshTokenTtl ?? 14 * 24 * 3600,
      DeviceCode: opts.deviceCodeTtl ?? 600,
      IdToken: 3600,
      Grant: 14 * 24 * 3600,
      Interaction: 600,
      Session: 3600,
      AuthorizationCode: 60,
    },
    rotateRefreshToken: true,
    // The email goes into the ID token too (as Google and Entra do), not only into userinfo.
    conformIdTokenClaims: false,
    issueRefreshToken: async (_ctx: unknown, client: any, code: any) => client.grantTypeAllowed('refresh_token') && code.scopes.has('offline_access'),
    async findAccount(_ctx: unknown, id: string) {
      const email = accounts.get(id);
      if (!email) return undefined;
      return { accountId: id, claims: async () => ({ sub: id, email, email_verified: true }) };
    },
    // Every grant the dev consent page creates includes what was asked (offline_access needs consent).
    loadExistingGrant: async (ctx: any) => {
      const grantId = ctx.oidc.result?.consent?.grantId || ctx.oidc.session?.grantIdFor(ctx.oidc.client!.clientId);
      return grantId ? ctx.oidc.provider.Grant.find(grantId) : undefined;
    },
  });
  provider.proxy = false;
  provider.use(async (ctx: any, next: () => Promise<void>) => {
    if (ctx.path === '/device/auth' && ctx.method === 'POST') {
      await next();
      if (ctx.body && typeof ctx.body === 'object') ctx.body = { ...ctx.body, interval: opts.deviceIntervalS ?? 5 };
      return;
    }
    if (ctx.path === '/token' && ctx.method === 'POST') {
      tokenCalls.total += 1;
      // Read the form here (oidc-provider takes an already-read body) to see the grant and device code.
      const chunks: Buffer[] = [];
      for await (const c of ctx.req) chunks.push(c as Buffer);
      const text = Buffer.concat(chunks).toString('utf8');
      ctx.req.body = text;
      const form = new URLSearchParams(text);
      const g = form.get('grant_type') ?? '';
      if (g === 'authorization_code') tokenCalls.authorization_code += 1;
      else if (g === 'refresh_token') tokenCalls.refresh_token += 1;
      else if (g.endsWith('device_code')) {
        tokenCalls.device_code += 1;
        const code = form.get('device_code') ?? '';
        const now = Date.now();
        const last = devicePolls.get(code);
        const intervalMs = last?.intervalMs ?? (opts.deviceIntervalS ?? 5) * 1000;
        if (last && now - last.at < intervalMs) {
          tokenCalls.slow_down += 1;
          devicePolls.set(code, { at: now, intervalMs: intervalMs + 5000 });
          ctx.status = 400;
          ctx.body = { error: 'slow_down', error_description: 'polling faster than the interval' };
          return;
        }
        devicePolls.set(code, { at: now, intervalMs });
      }
    }
    await next();
  });
  http.on('request', provider.callback());

  const browser = () => new Browser();

  /** Follows redirects and completes login/consent pages until a redirect leaves the provider. */
  async function drive(b: Browser, start: Response, login: string): Promise<string> {
    let res = start;
    for (let i = 0; i < 20; i++) {
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const next = new URL(location, issuer).toString();
        if (!next.startsWith(issuer)) return next;
        res = await b.go(next);
        continue;
      }
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      if (!action) {
        if (/success|Sign-in Success|signed in/i.test(html)) return '';
        throw new Error(`oauth-server: unexpected page (${res.status}): ${html.slice(0, 400)}`);
      }
      const url = new URL(action.replace(/&amp;/g, '&'), issuer).toString();
      const fields = hiddenInputs(html);
      if (/name="login"/.test(html)) res = await b.post(url, { ...fields, login, password: 'any' });
      else res = await b.post(url, { ...fields, prompt: fields.prompt ?? 'consent' });
    }
    throw new Error('oauth-server: too many steps');
  }

  let stopped = false;
  return {
    issuer,
    clientId,
    clientSecret,
    userinfoUrl: `${issuer}/me`,
    tokenCalls,
    addAccount(login, email) {
      accounts.set(login, email);
    },
    setAccessTokenTtl(seconds) {
      accessTokenTtl = seconds;
    },
    async signInAndConsent(authorizationUrl, login) {
      const b = browser();
      return drive(b, await b.go(authorizationUrl), login);
    },
    async approveDevice(userCode, login) {
      const b = browser();
      const page = await b.go(`${issuer}/device`);
      const html = await page.text();
      const fields = hiddenInputs(html);
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1] ?? '/device';
      const submitted = await b.post(new URL(action, issuer).toString(), { ...fields, user_code: userCode });
      const end = await drive(b, submitted, login);
      if (end && !end.startsWith(issuer)) throw new Error(`oauth-server: device flow ended at ${end}`);
    },
    async revokeAccount(login) {
      store.revokeAccount(login);
    },
    async revokeAccessTokens(login) {
      store.revokeAccessTokens(login);
    },
    async tokenBelongsTo(email, accessToken) {
      const res = await fetch(`${issuer}/me`, { headers: { authorization: `Bearer ${accessToken}` } });
      if (res.status !== 200) return false;
      const info = (await res.json()) as { email?: string };
      return typeof info.email === 'string' && info.email.toLowerCase() === email.toLowerCase();
    },
    dovecotOAuth2Config() {
      return [`introspection_url = ${issuer}/me`, 'introspection_mode = auth', 'username_attribute = email', ''].join('\n');
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      http.closeAllConnections();
      await new Promise<void>((r) => http.close(() => r()));
    },
  };
}
