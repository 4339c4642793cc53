/**
 * GET /api/v1/image-proxy?url=<remote>: remote images of an email, fetched by Mailroom so the reader's
 * browser never talks to the sender's server (web/src/api/images.ts builds these URLs).
 *
 * Signed-in users only: session cookie or API token like every /api/v1 route, or, because the sandboxed
 * email frame sends no cookie, the image token of the message being read as `t` with that message's id as
 * `m` (security/image-proxy-token.ts: bound to the message and the session, ten minutes). What is fetched
 * and refused is decided in src/platform/security/image-proxy.ts (SSRF guard with pinning, 3 redirects,
 * 5 MB, 10 s, raster images only, type read from the bytes, SVG refused); private hosts only when listed
 * in the image proxy's own allow-list (MAILROOM_IMAGE_PROXY_ALLOW_HOSTS), never through the mail
 * servers' one. The answer carries no upstream header: only the sniffed content type, `nosniff`,
 * `default-src 'none'; sandbox`, no referrer, and a private cache lifetime. Errors use the one error
 * shape with a stable code, never a stack.
 */
import type { FastifyReply } from 'fastify';
import type { ApiApp } from './typed.js';
import { AppError } from '../errors.js';
import { IMAGE_TOKEN_TTL_MS, signImageToken, verifyImageToken } from '../security/image-proxy-token.js';
import type { FastifyRequest } from 'fastify';
import type { CommandEnv } from '../context.js';
import { sessionIdHashOf } from './auth.js';
import { EMPTY_ALLOW_LIST } from '../security/host-guard.js';
import { errorResponses } from './schemas.js';
import { fetchProxiedImage, ImageProxyError } from '../security/image-proxy.js';
import { RateLimiter } from '../security/rate-limit.js';
import { IMAGE_PROXY_RESPONSE_HEADERS } from '../security/host-guard.js';

/** Cached by the reader's browser only (the response depends on who is signed in). */
export const IMAGE_CACHE_CONTROL = 'private, max-age=86400';

function hardened(reply: FastifyReply): FastifyReply {
  return reply.headers({ ...IMAGE_PROXY_RESPONSE_HEADERS });
}

/**
 * Fetches in flight at once, per process. Each may hold up to 5 MB for up to 10 s: the cap bounds the
 * memory and bandwidth the proxy can be made to spend (503 image_proxy_busy beyond it).
 */
export const IMAGE_PROXY_MAX_IN_FLIGHT = 64;

/** What an HTML endpoint adds to its answer so the email frame can load the message's images. */
export const imageTokenSchema = {
  imageToken: { type: 'string', description: 'Append as &t= (with &m=<messageId>) to /api/v1/image-proxy URLs loaded from the sandboxed email frame, which sends no cookie. Works for this message only, for 10 minutes. Empty for API tokens.' },
  imageTokenExpiresAt: { type: ['string', 'null'], description: 'When imageToken stops working (fetch the HTML again for a new one)' },
} as const;

/** What an image token of a template preview is bound to (the preview is not a stored message). */
export function templatePreviewImageSubject(templateId: string): string {
  return `template:${templateId}`;
}

/**
 * An image token for `messageId` (a message being read, or another subject such as a template preview),
 * for the request's browser session; empty for API tokens (they send their header with every request).
 */
export function issueImageToken(env: CommandEnv, req: FastifyRequest, messageId: string): { imageToken: string; imageTokenExpiresAt: string | null } {
  const sessionIdHash = sessionIdHashOf(req);
  if (!sessionIdHash) return { imageToken: '', imageTokenExpiresAt: null };
  const expiresAt = env.now() + IMAGE_TOKEN_TTL_MS;
  return { imageToken: signImageToken({ sessionIdHash, messageId, expiresAt }, env.secrets.derive('image-proxy')), imageTokenExpiresAt: new Date(expiresAt).toISOString() };
}

export async function imageProxyRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  // Images per reader per minute (an email with many images fits; a scan of the internet does not).
  const perUser = new RateLimiter({ limit: env.settings.imageProxyRateMax, intervalMs: 60_000 });
  let inFlight = 0;
  app.get(
    '/image-proxy',
    {
      // Authentication is checked in the handler: the cookie, a bearer token, or the `t` parameter.
      config: { public: true },
      schema: {
        tags: ['email'],
        summary: 'A remote email image, fetched by Mailroom (raster images from public servers only)',
        description:
          'Fetches an http(s) image on behalf of the signed-in reader. Private, loopback, link-local, CGNAT, unique-local and cloud metadata ' +
          'destinations are refused (host_not_allowed) unless the operator lists them in MAILROOM_IMAGE_PROXY_ALLOW_HOSTS, as are other protocols, ' +
          'more than 3 redirects, more than 5 MB, SVG and anything whose bytes are not a PNG, JPEG, GIF, WebP, AVIF, BMP or ICO image. ' +
          'Without a cookie or API token, `t` must be the imageToken of message `m` (401 image_token_invalid otherwise, image_token_expired after 10 minutes).',
        querystring: {
          type: 'object',
          required: ['url'],
          properties: {
            url: { type: 'string', minLength: 1, maxLength: 4096, description: 'The remote image URL (http or https).' },
            m: { type: 'string', maxLength: 200, description: 'The id of the message whose image this is (with `t`).' },
            t: { type: 'string', maxLength: 200, description: "The message's imageToken (from its HTML endpoint), for requests that carry no cookie." },
          },
          additionalProperties: false,
        },
        response: {
          200: { description: 'The image bytes, with the type read from them.', content: { 'image/*': { schema: { type: 'string', format: 'binary' } } } },
          ...errorResponses,
          '5xx': { $ref: 'Error#' },
        },
      },
    },
    async (req, reply) => {
      const { url, m, t } = req.query;
      let userId = req.actor?.user.id;
      if (!userId) {
        if (!t) throw new AppError('unauthenticated', 401, 'Sign in first, or send an API token as "Authorization: Bearer <token>".');
        const check = verifyImageToken(t, m ?? '', env.now(), env.secrets.derive('image-proxy'));
        if (!check.ok && check.reason === 'expired') throw new AppError('image_token_expired', 401, "This message's image link has expired. Open the message again to load its images.");
        const session = check.ok ? await app.auth.sessionActor(check.sessionIdHash) : null;
        if (!session) throw new AppError('image_token_invalid', 401, 'This image link is not valid for this message (or its sign-in ended). Open the message again to load its images.');
        userId = session.actor.user.id;
      }
      hardened(reply).header('cache-control', 'no-store');
      const allowed = perUser.take(userId);
      if (!allowed.allowed) {
        reply.header('retry-after', String(Math.ceil(allowed.retryAfterMs / 1000)));
        throw new AppError('rate_limited', 429, 'Too many images fetched in the last minute. Wait a moment and try again.');
      }
      if (inFlight >= IMAGE_PROXY_MAX_IN_FLIGHT) {
        reply.header('retry-after', '1');
        throw new AppError('image_proxy_busy', 503, 'The image proxy is busy. Try again in a moment.');
      }
      inFlight += 1;
      const controller = new AbortController();
      // The reader went away (frame closed, page left): stop fetching.
      const onClose = () => {
        if (!reply.raw.writableEnded) controller.abort(new Error('client went away'));
      };
      reply.raw.once('close', onClose);
      try {
        const image = await fetchProxiedImage(url, { signal: controller.signal, allowHosts: env.settings.imageProxyAllowHosts ?? EMPTY_ALLOW_LIST });
        return reply.header('cache-control', IMAGE_CACHE_CONTROL).type(image.contentType).send(image.body);
      } catch (err) {
        if (err instanceof ImageProxyError) {
          throw new AppError(err.code, err.status, err.message, err.upstreamStatus ? { upstreamStatus: err.upstreamStatus } : {});
        }
        throw err;
      } finally {
        inFlight -= 1;
        reply.raw.off('close', onClose);
      }
    },
  );
}
