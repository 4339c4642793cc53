import type { FastifyRequest } from 'fastify';
import type { ApiApp } from '../../../platform/http/typed.js';
import rateLimit from '@fastify/rate-limit';
import { signIn, signOut, SESSION_TTL_MS } from '../commands/signIn.js';
import { SESSION_COOKIE, requireActor } from '../../../platform/http/auth.js';
import { userView } from '../views.js';
import { accountSummary, sessionCsrfToken, teamIdsOf } from '../queries.js';
import { userSchema } from '../../../platform/http/schemas.js';
import { hashToken } from '../../../platform/security/passwords.js';
import { addressKey } from '../../connections/index.js';
import { RateLimiter } from '../../../platform/security/rate-limit.js';
import { AppError } from '../../../platform/errors.js';

const sessionSchema = {
  type: 'object',
  properties: { user: userSchema, csrfToken: { type: 'string' }, account: { type: 'object', properties: { id: { type: 'string' }, name: { type: 'string' }, plan: { type: 'string' } } } },
} as const;

/**
 * The rate-limit key of a sign-in: the address as sign-in compares it (addressKey: trimmed, lower-case,
 * IDN domain), so " Ann@X.example" and "ann@x.example" share one bucket.
 */
function signInKey(body: unknown): string {
  // Runs before validation: the body may be anything.
  const email = body && typeof body === 'object' && 'email' in body ? body.email : undefined;
  const text = typeof email === 'string' ? email : '';
  const key = addressKey(text);
  return key.ok ? key.key : text.trim().toLowerCase();
}

export async function sessionRoutes(app: ApiApp): Promise<void> {
  await app.register(rateLimit, { global: false, hook: 'preHandler' });
  const env = app.deps.env;
  const loginMax = env.settings.loginRateMax;
  // Besides the limit per address and client (below), one client may try at most 10 times that many
  // sign-ins a minute across all addresses: password spraying from one address is slowed down too.
  const perClient = new RateLimiter({ limit: loginMax * 10, intervalMs: 60_000 });
  /** HttpOnly, SameSite=Lax, and Secure when served over TLS (PUBLIC_URL https, SECURE_COOKIES, or a trusted proxy's X-Forwarded-Proto). */
  const cookieAttributes = (req: FastifyRequest) => ({
    httpOnly: true,
    sameSite: 'lax' as const,
    secure: app.deps.config.secureCookies || req.protocol === 'https',
    path: '/',
  });

  app.post(
    '/session',
    {
      config: {
        public: true,
        rateLimit: {
          max: loginMax,
          timeWindow: '1 minute',
          keyGenerator: (req) => `${req.ip}|${signInKey(req.body)}`,
        },
      },
      schema: {
        tags: ['session'],
        summary: 'Sign in with email and password (sets the session cookie)',
        security: [],
        body: {
          type: 'object',
          required: ['email', 'password'],
          properties: { email: { type: 'string', maxLength: 320 }, password: { type: 'string', maxLength: 1024 } },
          additionalProperties: false,
        },
        response: { 200: sessionSchema, '4xx': { $ref: 'Error#' } },
      },
    },
    async (req, reply) => {
      const client = perClient.take(req.ip);
      if (!client.allowed) {
        reply.header('retry-after', String(Math.ceil(client.retryAfterMs / 1000)));
        throw new AppError('rate_limited', 429, 'Too many sign-in attempts from your network. Wait a minute and try again.');
      }
      const s = await signIn(env, req.body);
      reply.setCookie(SESSION_COOKIE, s.sessionToken, { ...cookieAttributes(req), maxAge: Math.floor(SESSION_TTL_MS / 1000) });
      const account = await accountSummary(env.db, s.user.account_id);
      return { user: userView(s.user, await teamIdsOf(env.db, s.user.id)), csrfToken: s.csrfToken, account };
    },
  );

  app.get(
    '/session',
    { schema: { tags: ['session'], summary: 'The signed-in user, account and CSRF token', response: { 200: sessionSchema, '4xx': { $ref: 'Error#' } } } },
    async (req) => {
      const actor = requireActor(req);
      let csrfToken = '';
      if (req.authKind === 'session') {
        const idHash = hashToken(req.cookies[SESSION_COOKIE]!);
        const stored = await sessionCsrfToken(env.db, idHash);
        csrfToken = stored ?? '';
      }
      const account = await accountSummary(env.db, actor.accountId);
      return { user: userView(actor.user, await teamIdsOf(env.db, actor.user.id)), csrfToken, account };
    },
  );

  app.delete(
    '/session',
    { schema: { tags: ['session'], summary: 'Sign out', response: { 204: { type: 'null' } } } },
    async (req, reply) => {
      const sid = req.cookies[SESSION_COOKIE];
      if (sid) await signOut(env, sid);
      reply.clearCookie(SESSION_COOKIE, cookieAttributes(req));
      return reply.status(204).send();
    },
  );
}
