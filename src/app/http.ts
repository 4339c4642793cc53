import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import cookie from '@fastify/cookie';
import swagger from '@fastify/swagger';
import type { Config } from './config.js';
import type { Database } from '../platform/database/database.js';
import type { CommandEnv } from '../platform/context.js';
import { installErrorHandling, documentErrorResponses, errorSchema } from '../platform/http/errors.js';
import { installAuth } from '../platform/http/auth.js';
import { systemRoutes } from './system-routes.js';
import { sessionRoutes } from '../features/accounts/routes/session.js';
import { accountRoutes } from '../features/accounts/routes/account.js';
import { userRoutes } from '../features/accounts/routes/users.js';
import { teamRoutes } from '../features/accounts/routes/teams.js';
import { tokenRoutes } from '../features/accounts/routes/tokens.js';
import { contactRoutes } from '../features/crm/routes/contacts.js';
import { companyRoutes } from '../features/crm/routes/companies.js';
import { notificationRoutes } from '../features/notifications/routes.js';
import { connectionRoutes } from '../features/connections/routes.js';
import { inboxRoutes } from '../features/inbox/routes/inboxes.js';
import { conversationRoutes } from '../features/inbox/routes/conversations.js';
import { inboxSettingsRoutes } from '../features/inbox/routes/inbox-settings.js';
import { personalEmailRoutes } from '../features/personal/routes/personal-email.js';
import { emailTemplateRoutes } from '../features/personal/routes/email-templates.js';
import { trackingRoutes } from '../features/personal/routes/tracking.js';
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
  installAuth(app, deps.env);
  app.addHook('onResponse', async (req, reply) => {
    metrics.httpRequests.inc({ method: req.method, route: req.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) });
  });
  await app.register(systemRoutes);
  await app.register(sessionRoutes, { prefix: '/api/v1' });
  await app.register(accountRoutes, { prefix: '/api/v1' });
  await app.register(userRoutes, { prefix: '/api/v1' });
  await app.register(teamRoutes, { prefix: '/api/v1' });
  await app.register(tokenRoutes, { prefix: '/api/v1' });
  await app.register(contactRoutes, { prefix: '/api/v1' });
  await app.register(companyRoutes, { prefix: '/api/v1' });
  await app.register(notificationRoutes, { prefix: '/api/v1' });
  await app.register(inboxRoutes, { prefix: '/api/v1' });
  await app.register(conversationRoutes, { prefix: '/api/v1' });
  await app.register(inboxSettingsRoutes, { prefix: '/api/v1' });
  await app.register(connectionRoutes, { prefix: '/api/v1' });
  await app.register(personalEmailRoutes, { prefix: '/api/v1' });
  await app.register(imageProxyRoutes, { prefix: '/api/v1' });
  await app.register(emailTemplateRoutes, { prefix: '/api/v1' });
  await app.register(trackingRoutes);
  await app.register(webRoutes, deps.webDistDir ? { distDir: deps.webDistDir } : {});
  return app;
}
