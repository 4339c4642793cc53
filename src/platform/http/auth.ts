import crypto from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.js';
import { hashToken } from '../security/passwords.js';
import type { Actor, CommandEnv } from '../context.js';

export const SESSION_COOKIE = 'mailroom_session';

declare module 'fastify' {
  interface FastifyRequest {
    actor: Actor | null;
    authKind: 'session' | 'token' | null;
  }
  interface FastifyContextConfig {
    /** Route needs no signed-in user. */
    public?: boolean;
  }
}

const unauthenticated = () =>
  new AppError('unauthenticated', 401, 'Sign in first, or send an API token as "Authorization: Bearer <token>".');

/**
 * Resolves the actor from a Bearer API token or the session cookie. Cookie-authenticated requests that
 * change something must carry the session's CSRF token in the x-csrf-token header.
 */
export function installAuth(app: FastifyInstance, env: CommandEnv): void {
  app.decorateRequest('actor', null);
  app.decorateRequest('authKind', null);
  app.addHook('onRequest', async (req) => {
    if (!req.url.startsWith('/api/v1/')) return;
    const actor = await resolveActor(env, req);
    if (actor) {
      req.actor = actor.actor;
      req.authKind = actor.kind;
    }
  });
  app.addHook('preHandler', async (req) => {
    if (!req.url.startsWith('/api/v1/')) return;
    if (req.routeOptions.config?.public) return;
    if (!req.actor) throw unauthenticated();
  });
}

/**
 * The actor of a request as the database says now (tokens revoked, sessions expired or users deactivated
 * since give null or throw). Long-lived responses (server-sent events) call it again while they run.
 */
export async function resolveActor(env: CommandEnv, req: FastifyRequest): Promise<{ actor: Actor; kind: 'session' | 'token' } | null> {
  const header = req.headers.authorization;
  const now = env.now();
  if (header?.startsWith('Bearer ')) {
    const token = header.slice(7).trim();
    const row = await env.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .innerJoin('accounts', 'accounts.id', 'users.account_id')
      .selectAll('users')
      .select(['api_tokens.id as token_id', 'accounts.plan as plan'])
      .where('api_tokens.token_hash', '=', hashToken(token))
      .where('api_tokens.revoked_at', 'is', null)
      .executeTakeFirst();
    if (!row) throw new AppError('unauthenticated', 401, 'This API token is not valid or was revoked. Create a new one with `mailroom token create`.');
    if (row.state !== 'active') throw new AppError('user_not_active', 401, `The user of this token is ${row.state}; an admin can restore the user.`);
    await env.db.updateTable('api_tokens').set({ last_used_at: now }).where('id', '=', row.token_id).execute();
    const { token_id: _t, plan, ...user } = row;
    return { actor: { user, accountId: user.account_id, plan }, kind: 'token' };
  }
  const sid = req.cookies?.[SESSION_COOKIE];
  if (!sid) return null;
  const found = await sessionActor(env, hashToken(sid));
  if (!found) return null;
  const { actor, csrfToken: csrf_token } = found;
  if (!['GET', 'HEAD', 'OPTIONS'].includes(req.method)) {
    const sent = req.headers['x-csrf-token'];
    const ok = typeof sent === 'string' && sent.length === csrf_token.length && crypto.timingSafeEqual(Buffer.from(sent), Buffer.from(csrf_token));
    if (!ok) throw new AppError('csrf_token_invalid', 403, 'This request is missing the x-csrf-token header of your session. Reload the page and try again.');
  }
  return { actor, kind: 'session' };
}

/**
 * The actor of a live session, looked up by the session's stored id hash: null when the session does
 * not exist (signed out), has expired, or its user is not active.
 */
export async function sessionActor(env: CommandEnv, idHash: string): Promise<{ actor: Actor; csrfToken: string } | null> {
  const row = await env.db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.user_id')
    .innerJoin('accounts', 'accounts.id', 'users.account_id')
    .selectAll('users')
    .select(['sessions.csrf_token as csrf_token', 'sessions.expires_at as expires_at', 'accounts.plan as plan'])
    .where('sessions.id_hash', '=', idHash)
    .executeTakeFirst();
  if (!row || row.expires_at < env.now() || row.state !== 'active') return null;
  const { csrf_token, expires_at: _e, plan, ...user } = row;
  return { actor: { user, accountId: user.account_id, plan }, csrfToken: csrf_token };
}

/** Route guard helpers. */
export function requireActor(req: FastifyRequest): Actor {
  if (!req.actor) throw unauthenticated();
  return req.actor;
}
