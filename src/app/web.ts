import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import fastifyStatic from '@fastify/static';

/** Where `npm run build:web` puts the browser app. */
export const WEB_DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../web/dist');

/**
 * The page's policy. Scripts only from this origin (the built HTML has no inline script).
 * Styles allow 'unsafe-inline' because message HTML is shown in srcdoc frames, which inherit this
 * policy, and email formatting lives in inline styles; those frames also carry their own stricter
 * policy (`default-src 'none'`) and run with `sandbox=""`, so nothing in them can execute.
 */
export const APP_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "frame-src 'self' about:",
  "child-src 'self' about:",
  "worker-src 'none'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
  "manifest-src 'self'",
].join('; ');

const SECURITY_HEADERS: Record<string, string> = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'permissions-policy': 'camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()',
};

const NOT_BUILT_PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Mailroom</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:4rem auto;padding:0 1rem;color:#1d2330}code{background:#eef1f6;padding:2px 6px;border-radius:4px}</style>
</head><body><h1>Mailroom is running</h1>
<p>The web app has not been built yet. Run <code>npm run build:web</code>, then reload this page.</p>
<p>The API is available now: see <a href="/api/docs">/api/docs</a>.</p></body></html>`;

export interface WebOptions {
  /** Folder of the built app (default: web/dist next to the sources). */
  distDir?: string;
}

function applyHeaders(reply: FastifyReply, html: boolean): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
  if (html) {
    reply.header('content-security-policy', APP_CSP);
    reply.header('cache-control', 'no-cache');
  }
}

/**
 * Serves the browser app from web/dist at `/`: hashed assets under /assets (cached for a year),
 * index.html with a strict CSP for every other non-API path (client-side routing). Unknown /api
 * paths keep the API's own 404. When the app is not built, `/` says how to build it.
 *
 * Register with `await app.register(webRoutes)`; its routes are hidden from the OpenAPI document.
 */
export async function webRoutes(app: FastifyInstance, opts: WebOptions = {}): Promise<void> {
  const root = opts.distDir ?? WEB_DIST;
  const indexPath = path.join(root, 'index.html');
  await app.register(fastifyStatic, { root, serve: false, suppressWarning: true });

  app.get('/*', { schema: { hide: true } }, async (req, reply) => {
    const urlPath = decodeURIComponentSafe(req.url.split('?')[0] ?? '/');
    if (urlPath === null) return reply.callNotFound();
    if (urlPath === '/api' || urlPath.startsWith('/api/')) return reply.callNotFound();

    // Built assets: only files that exist under /assets, never a path outside the folder.
    if (urlPath.startsWith('/assets/')) {
      const rel = path.posix.normalize(urlPath).replace(/^\/+/, '');
      const file = path.join(root, rel);
      if (rel.startsWith('assets/') && !rel.includes('..') && file.startsWith(root + path.sep) && isFile(file)) {
        applyHeaders(reply, false);
        return reply.sendFile(rel, root, { immutable: true, maxAge: 365 * 24 * 3600 * 1000, dotfiles: 'deny' });
      }
      return reply.callNotFound();
    }

    // A path with a file extension that is not an asset is not an app page.
    if (/\.[a-z0-9]{1,8}$/i.test(urlPath) && urlPath !== '/index.html') return reply.callNotFound();

    applyHeaders(reply, true);
    if (!isFile(indexPath)) {
      return reply.type('text/html; charset=utf-8').send(NOT_BUILT_PAGE);
    }
    return reply.type('text/html; charset=utf-8').send(await fs.promises.readFile(indexPath));
  });
}

function isFile(p: string): boolean {
  try {
    return fs.statSync(p).isFile();
  } catch {
    return false;
  }
}

function decodeURIComponentSafe(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
