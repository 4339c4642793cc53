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
}

export interface Authenticator {
  /**
   * The actor of a request as the database says now (tokens revoked, sessions expired or users deactivated
   * since give null or throw). Long-lived responses (server-sent events) call it again while they run.
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
export function createAuthenticator(env: CommandEnv, store: CredentialStore): Authenticator {
  const sessionActor: Authenticator['sessionActor'] = async (idHash) => {
    const row = await store.sessionUser(env, idHash);
    if (!row || row.expiresAt < env.now() || row.user.state !== 'active') return null;
    return { actor: { user: row.user, accountId: row.user.account_id, plan: row.plan }, csrfToken: row.csrfToken };
  };
  const resolveActor: Authenticator['resolveActor'] = async (req) => {
    const header = req.headers.authorization;
    if (header?.startsWith('Bearer ')) {
      const token = header.slice(7).trim();
      const row = await store.apiTokenUser(env, hashToken(token));
      if (!row) throw new AppError('unauthenticated', 401, 'This API token is not valid or was revoked. Create a new one with `mailroom token create`.');
      if (row.user.state !== 'active') throw new AppError('user_not_active', 401, `The user of this token is ${row.user.state}; an admin can restore the user.`);
      await store.markApiTokenUsed(env, row.tokenId);
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

/** The signed-in actor of a request of the authenticated scope (refuses with 401 on a public route without one). */
export function requireActor(req: FastifyRequest): Actor {
  if (!req.actor) throw unauthenticated();
  return req.actor;
}
