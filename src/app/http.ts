import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { Config } from './config.js';
import type { Database } from '../platform/database/database.js';
import type { CommandEnv } from '../platform/context.js';
import { installErrorHandling, documentErrorResponses, errorSchema, notFoundHandler } from '../platform/http/errors.js';
import { createAuthenticator, installAuth, type CredentialStore } from '../platform/http/auth.js';
import { typed, type ApiRoutes } from '../platform/http/typed.js';
import { systemRoutes } from './system-routes.js';
import { apiTokenUser, credentialsVersion, markApiTokenUsed, sessionUser } from '../features/accounts/index.js';
import { accountsRoutes } from '../features/accounts/routes/index.js';
import { crmRoutes } from '../features/crm/routes/index.js';
import { notificationRoutes } from '../features/notifications/routes.js';
import { inboxRoutes } from '../features/inbox/routes/index.js';
import { connectionRoutes } from '../features/connections/routes.js';
import { personalRoutes } from '../features/personal/routes/index.js';
import { webhooksRoutes } from '../features/webhooks/routes/index.js';
import { meetingsRoutes } from '../features/meetings/routes.js';
import { trackingRoutes } from '../features/personal/routes/tracking.js';
import { sequencesRoutes } from '../features/sequences/routes/index.js';
import { sequenceUnsubscribeRoutes } from '../features/sequences/routes/unsubscribe.js';
import { imageProxyRoutes } from '../platform/http/image-proxy-routes.js';
import { metrics } from '../platform/metrics.js';
import { webRoutes } from './web.js';

export interface AppDeps {
  database: Database;
  config: Config;
  env: CommandEnv;
  /** pino options or false to silence logs (tests). */
  logger?: boolean | object;
  /** Folder of the built web app (default web/dist). */
  webDistDir?: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    deps: AppDeps;
  }
}

/**
 * What a request log line says about the request: Fastify's default fields, with credentials carried in
 * the query string (the image proxy's `t`, a `token`) replaced by [redacted].
 */
export function requestForLog(req: FastifyRequest): Record<string, unknown> {
  return {
    method: req.method,
    url: redactQuery(req.url),
    host: req.host,
    remoteAddress: req.ip,
    remotePort: req.socket?.remotePort,
  };
}

export function redactQuery(url: string): string {
  return url.replace(/([?&](?:t|token|access_token)=)[^&#]*/gi, '$1[redacted]');
}

/** The features' API routes, registered under /api/v1 in this order. */
const API_ROUTES: readonly ApiRoutes[] = [accountsRoutes, crmRoutes, notificationRoutes, inboxRoutes, connectionRoutes, personalRoutes, sequencesRoutes, webhooksRoutes, meetingsRoutes, imageProxyRoutes];

/** Who the API's credentials belong to: the accounts feature's users, sessions and API tokens. */
const credentials: CredentialStore = {
  apiTokenUser: (env, tokenHash) => apiTokenUser(env.db, tokenHash),
  markApiTokenUsed,
  sessionUser: (env, idHash) => sessionUser(env.db, idHash),
  version: credentialsVersion,
};

/** Builds the HTTP application: API under /api/v1, OpenAPI at /api/openapi.json, docs at /api/docs. */
export async function buildApp(deps: AppDeps): Promise<FastifyInstance> {
  // Redaction applies whatever logger options the caller adds (level, stream...); only `false` turns logs off.
  const logging = {
    level: deps.config.logLevel,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', 'req.headers["x-csrf-token"]', '*.password', '*.imapPassword', '*.smtpPassword'], censor: '[redacted]' },
    serializers: { req: requestForLog },
  };
  const app = Fastify({
    logger: deps.logger === false ? false : { ...logging, ...(typeof deps.logger === 'object' ? deps.logger : {}) },
    trustProxy: deps.config.trustProxy,
    bodyLimit: 30 * 1024 * 1024,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: false } },
  });
  app.decorate('deps', deps);
  installErrorHandling(app);
  app.addSchema(errorSchema);
  documentErrorResponses(app);
  await app.register(cookie);
  await app.register(swagger, {
    // Shared schemas keep their $id as their component name (components.schemas.Error, not def-0), so the
    // web app's generated types can name them (npm run api:types).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Mailroom API',
        version: '0.1.0',
        description:
          'Connect personal and team email to the CRM. Every error is {"error":{"code","message","holder"?,"resolution"?,"details"?}} (the Error schema), with details always an object.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer' },
          session: { type: 'apiKey', in: 'cookie', name: 'mailroom_session' },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
  });
  app.decorate('auth', createAuthenticator(deps.env, credentials));
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpRequests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  // Public, outside the API: health, metrics, the OpenAPI document and docs; open pixels and tracked links
  // (mail clients call them); the web app.
  await app.register(systemRoutes);
  await typed(app).register(trackingRoutes);
  await typed(app).register(sequenceUnsubscribeRoutes);
  // The API: one encapsulated scope where every request is authenticated (routes marked
  // `config: { public: true }` let anonymous requests through: sign-in, and the image proxy, which checks
  // its own `t` token). Each feature's routes are one plugin.
  await app.register(
    async (scope) => {
      const api = typed(scope);
      installAuth(api);
      // Unknown API paths answer 404 after authentication (401 without credentials), as before: the scope
      // has its own 404 handler, and a GET catch-all so the web app's `/*` does not answer them outside it.
      api.setNotFoundHandler(notFoundHandler);
      api.get('/*', { schema: { hide: true } }, (_req, reply) => reply.callNotFound());
      for (const routes of API_ROUTES) await api.register(routes);
    },
    { prefix: '/api/v1' },
  );
  await app.register(webRoutes, deps.webDistDir ? { distDir: deps.webDistDir } : {});
  return app;
}
