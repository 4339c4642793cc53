/**
 * The one-click unsubscribe of sequence email (RFC 8058), public: mail clients POST
 * `List-Unsubscribe=One-Click` to the URL of the `List-Unsubscribe` header; a person following the link
 * gets a page with a button that does the same POST (a GET never unsubscribes: link scanners open URLs).
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { unsubscribe } from '../commands/unsubscribe.js';

const page = (body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><meta name="viewport" content="width=device-width"><title>Unsubscribe</title></head><body style="font-family:sans-serif;max-width:32rem;margin:3rem auto">${body}</body></html>`;

export async function sequenceUnsubscribeRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  // RFC 8058 clients post a form (urlencoded or multipart); its content is always the same, so it is not read.
  for (const type of ['application/x-www-form-urlencoded', 'multipart/form-data']) app.addContentTypeParser(type, { parseAs: 'string', bodyLimit: 10_000 }, (_req, _body, done) => done(null, {}));
  const params = { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 400 } } } as const;

  app.get('/unsubscribe/:token', { schema: { hide: true, params }, config: { public: true } }, async (_req, reply) => {
    reply.header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
    return page(`<p>Stop receiving these emails?</p><form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`);
  });

  app.post('/unsubscribe/:token', { schema: { hide: true, params }, config: { public: true } }, async (req, reply) => {
    const ok = await unsubscribe(env, req.params.token);
    reply.status(ok ? 200 : 404).header('content-type', 'text/html; charset=utf-8').header('cache-control', 'no-store');
    return page(ok ? '<p>You are unsubscribed. You will not receive these emails again.</p>' : '<p>This unsubscribe link is not valid.</p>');
  });
}
