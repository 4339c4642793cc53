/**
 * Open and click tracking endpoints, outside the API (no sign-in: mail clients call them).
 *
 *   GET /t/o/:token   the 1x1 pixel of an email (token: the signed personal email id)
 *   GET /t/c/:token   a tracked link (token: the signed link id): 302 to the destination STORED for that
 *                     link id, never to anything taken from the request; a changed, truncated or foreign
 *                     token is 404, as is a valid token of a link that no longer exists.
 *
 * Both answer without waiting for the database: the token is checked with an HMAC, the hit is put in an
 * in-memory buffer written in batches (every half second, or 2,000 hits) by `recordTrackingHits`, which
 * classifies bots and prefetches. Link destinations are immutable, so they are cached. A hit lost in a
 * crash is a tracking hit, not mail: that trade buys the throughput these endpoints need.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { ApiApp } from '../../../platform/http/typed.js';
import { notFound } from '../../../platform/errors.js';
import { verifyTrackingId } from '../../../platform/security/tracking-signature.js';
import type { CommandEnv } from '../../../platform/context.js';
import { recordTrackingHits, type IncomingHit } from '../commands/recordTrackingHits.js';
import { trackingLink, trackingSecret } from '../queries.js';

/** The smallest transparent GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const FLUSH_EVERY_MS = 500;
const FLUSH_AT = 2000;
const MAX_BUFFERED = 50_000;

/** Collects hits and writes them in batches. */
export class TrackingHitBuffer {
  private hits: IncomingHit[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly env: CommandEnv,
    private readonly onError: (err: unknown) => void = () => {},
  ) {}

  push(hit: IncomingHit): void {
    if (this.hits.length >= MAX_BUFFERED) return; // the database is not keeping up: drop rather than grow without bound
    this.hits.push(hit);
    if (this.hits.length >= FLUSH_AT) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), FLUSH_EVERY_MS);
      this.timer.unref();
    }
  }

  /** Writes everything buffered so far; resolves when it is committed. */
  flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    const batch = this.hits;
    this.hits = [];
    this.writing = this.writing.then(async () => {
      if (!batch.length) return;
      try {
        await recordTrackingHits(this.env, batch);
      } catch (err) {
        this.onError(err);
      }
    });
    return this.writing;
  }
}

const buffers = new WeakMap<CommandEnv, TrackingHitBuffer>();

export function trackingHitBuffer(env: CommandEnv, onError?: (err: unknown) => void): TrackingHitBuffer {
  let b = buffers.get(env);
  if (!b) {
    b = new TrackingHitBuffer(env, onError);
    buffers.set(env, b);
  }
  return b;
}

/** Writes the buffered hits of this environment now (tests, shutdown). */
export async function flushTrackingHits(env: CommandEnv): Promise<void> {
  await buffers.get(env)?.flush();
}

interface CachedLink {
  url: string;
  personalEmailId: string;
}

/** Link destinations never change once sent: a bounded cache in front of the database. */
class LinkCache {
  private map = new Map<string, CachedLink>();
  constructor(
    private readonly env: CommandEnv,
    private readonly max = 50_000,
  ) {}

  async get(id: string): Promise<CachedLink | null> {
    const hit = this.map.get(id);
    if (hit) return hit;
    const row = await trackingLink(this.env.db, id);
    if (!row) return null;
    const link = { url: row.url, personalEmailId: row.personal_email_id };
    if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
    this.map.set(id, link);
    return link;
  }
}

const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 600 } } } as const;

function hitOf(req: FastifyRequest, kind: 'open' | 'click', personalEmailId: string, at: number, linkId?: string): IncomingHit {
  const ua = req.headers['user-agent'];
  return { kind, personalEmailId, linkId: linkId ?? null, at, method: req.method, ip: req.ip ?? null, userAgent: typeof ua === 'string' ? ua : null };
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store, no-cache, must-revalidate, private, max-age=0').header('pragma', 'no-cache').header('expires', '0');
}

export async function trackingRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  const secret = trackingSecret(env);
  const buffer = trackingHitBuffer(env, (err) => app.log.warn({ err: { message: (err as Error).message } }, 'tracking hits could not be written; they are dropped'));
  const links = new LinkCache(env);
  app.addHook('onClose', async () => {
    await buffer.flush();
  });

  app.get('/t/o/:token', { schema: { hide: true, params: tokenParams } }, async (req, reply) => {
    const token = req.params.token.replace(/\.gif$/, '');
    const v = verifyTrackingId(token, secret, 'open');
    if (!v) throw notFound('Tracking image');
    buffer.push(hitOf(req, 'open', v.id, env.now()));
    return noStore(reply).type('image/gif').send(PIXEL_GIF);
  });

  app.get('/t/c/:token', { schema: { hide: true, params: tokenParams } }, async (req, reply) => {
    const v = verifyTrackingId(req.params.token, secret, 'click');
    if (!v) throw notFound('Link');
    const link = await links.get(v.id);
    if (!link) throw notFound('Link');
    buffer.push(hitOf(req, 'click', link.personalEmailId, env.now(), v.id));
    return noStore(reply).header('referrer-policy', 'no-referrer').redirect(link.url, 302);
  });
}
