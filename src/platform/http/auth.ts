import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { hashToken } from '../security/passwords.js';
import type { Actor, CommandEnv, UserRow } from '../context.js';

export const SESSION_COOKIE = 'mailroom_session';

declare module 'fastify' {
  interface FastifyInstance {
    /** Who is calling: resolves API tokens and sessions (installed by src/app/http.ts). */
    auth: Authenticator;
  }
  interface FastifyRequest {
    actor: Actor | null;
    authKind: 'session' | 'token' | null;
  }
  interface FastifyContextConfig {
    /** Route of the authenticated scope that needs no signed-in user (it may still read `req.actor`). */
    public?: boolean;
  }
}

/**
 * Where credentials are looked up: provided by the accounts feature (which owns users, sessions and API
 * tokens) and wired in src/app/http.ts, so this platform module never reads the database itself.
 */
export interface CredentialStore {
  /** The user of an unrevoked API token (in whatever state), the token's id and the account's plan. */
  apiTokenUser(env: CommandEnv, tokenHash: string): Promise<{ user: UserRow; tokenId: string; plan: Actor['plan'] } | null>;
  /** Records that an API token was used. */
  markApiTokenUsed(env: CommandEnv, tokenId: string): Promise<void>;
  /** The user of a session by its stored id hash, with the session's CSRF token and expiry. */
  sessionUser(env: CommandEnv, idHash: string): Promise<{ user: UserRow; plan: Actor['plan']; csrfToken: string; expiresAt: number } | null>;
  /**
   * A number that changes whenever this process revokes a token, ends a session or changes a user (state,
   * role, seat, name...): lookups cached before the change are dropped at once. Without it, cached lookups
   * live for the cache's lifetime only.
   */
  version?(): number;
}

/** How the authenticator caches verified credentials (see createAuthenticator). */
export interface AuthCacheOptions {
  /** How long a verified token or session is reused without asking the database (ms; 0 turns the cache off). */
  cacheMs?: number;
  /** How often a token's last use is written (ms): at most once per interval per token and process. */
  markUsedEveryMs?: number;
  /** Most cached credentials kept (the oldest go first). */
  maxEntries?: number;
  /** The cache's clock (monotonic ms; tests move it). */
  clock?: () => number;
}

/**
 * Verified credentials are reused for 2 s: a busy client (50 agents, or the web app's parallel calls) asks the
 * database once per token per 2 s instead of on every request. A revocation, sign-out or user change made
 * in this process takes effect at once (CredentialStore.version); one made by another process within 2 s.
 */
export const AUTH_CACHE_MS = 2_000;
/** `lastUsedAt` of a token is written at most once a minute per process (it is shown to the minute). */
export const MARK_USED_EVERY_MS = 60_000;

export interface Authenticator {
  /**
   * The actor of a request as the database says (tokens revoked, sessions expired or users deactivated
   * since give null or throw: at once when this process made the change, within AUTH_CACHE_MS when another
   * did). Long-lived responses (server-sent events) call it again while they run.
   */
  resolveActor(req: FastifyRequest): Promise<{ actor: Actor; kind: 'session' | 'token' } | null>;
  /**
   * The actor of a live session, looked up by the session's stored id hash: null when the session does
   * not exist (signed out), has expired, or its user is not active.
   */
  sessionActor(idHash: string): Promise<{ actor: Actor; csrfToken: string } | null>;
}

export const unauthenticated = () =>
  new AppError('unauthenticated', 401, 'Sign in first, or send an API token as "Authorization: Bearer <token>".');

/**
 * Resolves the actor from a Bearer API token or the session cookie. Cookie-authenticated requests that
 * change something must carry the session's CSRF token in the x-csrf-token header.
 */
export function createAuthenticator(env: CommandEnv, store: CredentialStore, opts: AuthCacheOptions = {}): Authenticator {
  const cacheMs = opts.cacheMs ?? AUTH_CACHE_MS;
  const markEvery = opts.markUsedEveryMs ?? MARK_USED_EVERY_MS;
  const maxEntries = opts.maxEntries ?? 10_000;
  const clock = opts.clock ?? (() => performance.now());
  const version = () => store.version?.() ?? 0;
  const cache = new Map<string, { value: unknown; version: number; at: number }>();
  const lastMarked = new Map<string, number>();
  /**
   * A lookup of an active user's credential, reused while it is younger than cacheMs and nothing changed
   * credentials in this process since it was read (a change during the read keeps it out of the cache).
   * Only answers for active users are kept: anything else is asked again each time.
   */
  async function cached<T extends { user: UserRow }>(key: string, load: () => Promise<T | null>): Promise<T | null> {
    const v = version();
    const hit = cache.get(key);
    if (hit && hit.version === v && clock() - hit.at < cacheMs) return hit.value as T;
    if (hit) cache.delete(key);
    const at = clock();
    const value = await load();
    if (cacheMs > 0 && value && value.user.state === 'active' && version() === v) {
      if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
      cache.set(key, { value, version: v, at });
    }
    return value;
  }
  async function markUsed(tokenId: string): Promise<void> {
    const now = clock();
    const last = lastMarked.get(tokenId);
    if (last !== undefined && now - last < markEvery) return;
    if (lastMarked.size >= maxEntries) lastMarked.delete(lastMarked.keys().next().value!);
    lastMarked.set(tokenId, now);
    await store.markApiTokenUsed(env, tokenId);
  }
  const sessionActor: Authenticator['sessionActor'] = async (idHash) => {
    const row = await cached(`s:${idHash}`, () => store.sessionUser(env, idHash));
    if (!row || row.expiresAt < env.now() || row.user.state !== 'active') return null;
    return { actor: { user: row.user, accountId: row.user.account_id, plan: row.plan }, csrfToken: row.csrfToken };
  };
  const resolveActor: Authenticator['resolveActor'] = async (req) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      const tokenHash = hashToken(token);
      const row = await cached(`t:${tokenHash}`, () => store.apiTokenUser(env, tokenHash));
      if (!row) throw new AppError('unauthenticated', 401, 'This API token is not valid or was revoked. Create a new one with `mailroom token create`.');
      if (row.user.state !== 'active') throw new AppError('user_not_active', 401, `The user of this token is ${row.user.state}; an admin can restore the user.`);
      await markUsed(row.tokenId);
      return { actor: { user: row.user, accountId: row.user.account_id, plan: row.plan }, kind: 'token' };
    }
    const sid = req.cookies?.[SESSION_COOKIE];
    if (!sid) return null;
    const found = await sessionActor(hashToken(sid));
    if (!found) return null;
    const { actor, csrfToken: csrf_token } = found;
    if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
      const sent = req.headers['x-csrf-token'];
      const ok = typeof sent === 'string' && sent.length === csrf_token.length && crypto.timingSafeEqual(Buffer.from(sent), Buffer.from(csrf_token));
      if (!ok) throw new AppError('csrf_token_invalid', 403, 'This request is missing the x-csrf-token header of your session. Reload the page and try again.');
    }
    return { actor, kind: 'session' };
  };
  return { resolveActor, sessionActor };
}

/**
 * Authentication of the scope it is installed in (the `/api/v1` plugin of src/app/http.ts): every request
 * of the scope resolves its actor when it arrives (onRequest), and, once its input is validated, a request
 * without one is refused (401) unless its route is marked `config: { public: true }`. Routes outside the
 * scope (health, metrics, OpenAPI, tracking pixels and links, the web app) never see these hooks.
 */
export function installAuth(scope: FastifyInstance): void {
  scope.decorateRequest('actor', null);
  scope.decorateRequest('authKind', null);
  scope.addHook('onRequest', async (req) => {
    const found = await scope.auth.resolveActor(req);
    if (found) {
      req.actor = found.actor;
      req.authKind = found.kind;
    }
  });
  scope.addHook('preHandler', async (req) => {
    if (req.routeOptions.config?.public) return;
    if (!req.actor) throw unauthenticated();
  });
}

/** The stored hash of the request's browser session (null for API tokens and anonymous requests). */
export function sessionIdHashOf(req: FastifyRequest): string | null {
  const sid = req.authKind === 'session' ? req.cookies?.[SESSION_COOKIE] : undefined;
  return sid ? hashToken(sid) : null;
}

/** The signed-in actor of a request of the authenticated scope (refuses with 401 on a public route without one). */
export function requireActor(req: FastifyRequest): Actor {
  if (!req.actor) throw unauthenticated();
  return req.actor;
}
