import { sendForwardingTest } from './commands/sendForwardingTest.js';
import type { ApiApp } from '../../platform/http/typed.js';
import { requireActor } from '../../platform/http/auth.js';
import { connectEmail } from './commands/connectEmail.js';
import { disconnectEmail } from './commands/disconnectEmail.js';
import { releaseConnection } from './commands/releaseConnection.js';
import { updateConnection } from './commands/updateConnection.js';
import { listConnectionFolders } from './commands/listConnectionFolders.js';
import { chooseConnectionFolders } from './commands/chooseConnectionFolders.js';
import { connectionViewOf, listConnections, loadConnection } from './queries.js';
import { resyncConnection, updateConnectionCredentials } from './commands/updateConnectionCredentials.js';
import { authorize, can } from '../../platform/authorize.js';
import { connectionPolicies } from './policies.js';
import { errorResponses, idParams } from '../../platform/http/schemas.js';
import { AppError } from '../../platform/errors.js';
import { completeOAuthCallback, deviceFlowStatus, oauthProviders, pendingDeviceFlows, redirectUri, startOAuthConnect } from './oauth/flows.js';

const server = {
  type: 'object',
  required: ['host', 'port', 'tls', 'password'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 253 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    tls: { type: 'string', enum: ['tls', 'starttls', 'none'] },
    username: { type: 'string', maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

const serverUpdate = {
  type: 'object',
  required: ['password'],
  additionalProperties: false,
  properties: {
    host: { type: 'string', minLength: 1, maxLength: 253 },
    port: { type: 'integer', minimum: 1, maximum: 65535 },
    tls: { type: 'string', enum: ['tls', 'starttls', 'none'] },
    username: { type: 'string', maxLength: 320 },
    password: { type: 'string', minLength: 1, maxLength: 1024 },
  },
} as const;

const serverView = { type: ['object', 'null'], properties: { host: { type: 'string' }, port: { type: 'integer' }, tls: { type: 'string' }, username: { type: 'string' } } } as const;

export const connectionSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['personal', 'team'] },
    address: { type: 'string' },
    addressKey: { type: 'string' },
    userId: { type: 'string' },
    userName: { type: ['string', 'null'] },
    userState: { type: ['string', 'null'] },
    inboxId: { type: ['string', 'null'] },
    inboxName: { type: ['string', 'null'] },
    transport: { type: 'string', enum: ['imap', 'forwarding'] },
    oauthProvider: { type: ['string', 'null'], enum: ['google', 'microsoft', 'oidc', null], description: 'Signed in with OAuth at this provider (reconnect with POST /connections/oauth/start and connectionId), or null (passwords)' },
    state: { type: 'string', enum: ['syncing', 'active', 'auth_failed', 'needs_reauth', 'error', 'disconnected'] },
    stage: { type: ['string', 'null'], enum: ['initial_sync_queued', 'initial_sync', null] },
    listening: {
      type: ['string', 'null'],
      enum: ['live', 'polling', 'waiting', null],
      description: 'IMAP: live (an IDLE session is open, new mail shows in seconds), polling (the server has no IDLE: checked on an adaptive interval), waiting (reconnecting, backing off, or no worker holds it yet). Null for forwarding, disconnected, or a refused password.',
    },
    listeningSince: { type: ['string', 'null'], description: 'When `listening` last changed (null when unknown)' },
    progress: { type: 'object', properties: { done: { type: 'integer' }, total: { type: ['integer', 'null'] } } },
    lastError: { type: ['object', 'null'], properties: { code: { type: 'string' }, message: { type: ['string', 'null'] }, at: { type: ['string', 'null'] } } },
    imap: serverView,
    smtp: serverView,
    sentFolder: { type: ['string', 'null'] },
    folders: { type: 'array', items: { type: 'string' } },
    isDefaultFrom: { type: 'boolean' },
    useForMeetings: { type: 'boolean' },
    forwardingCheck: {
      type: ['object', 'null'],
      description: 'Team email by forwarding: the last forwarding check (POST /connections/{id}/forwarding-test)',
      properties: { state: { type: 'string', enum: ['never', 'sending', 'waiting', 'verified', 'not_received', 'send_failed'] }, message: { type: 'string' }, sentAt: { type: ['string', 'null'] }, verifiedAt: { type: ['string', 'null'] } },
    },
    forwardingAddress: { type: ['string', 'null'] },
    senderName: { type: ['object', 'null'], properties: { mode: { type: 'string' }, custom: { type: ['string', 'null'] } } },
    signature: { type: ['string', 'null'] },
    sendLimits: { type: 'object', properties: { perDay: { type: ['integer', 'null'] }, perMinute: { type: ['integer', 'null'] } } },
    createdAt: { type: 'string' },
    disconnectedAt: { type: ['string', 'null'] },
  },
} as const;

export async function connectionRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  await oauthConnectionRoutes(app);

  app.get(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Email connections: your own personal ones and team email; admins see every connection of the account',
        querystring: {
          type: 'object',
          properties: {
            type: { type: 'string', enum: ['personal', 'team'] },
            userId: { type: 'string' },
            inboxId: { type: 'string' },
            includeDisconnected: { type: 'boolean', default: false },
          },
        },
        response: { 200: { type: 'object', properties: { connections: { type: 'array', items: connectionSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      // Personal mail is private: members see only their own personal connections.
      const personalOf = can(actor, connectionPolicies.seeAllPersonal) ? 'everyone' : actor.user.id;
      const connections = await listConnections(env.db, actor.accountId, { ...req.query, personalOf });
      return { connections };
    },
  );

  app.post(
    '/connections',
    {
      schema: {
        tags: ['connections'],
        summary: 'Connect an address as personal email or team email (checked live against the servers)',
        body: {
          type: 'object',
          required: ['type', 'address', 'transport', 'smtp'],
          additionalProperties: false,
          properties: {
            type: { type: 'string', enum: ['personal', 'team'] },
            address: { type: 'string', maxLength: 320 },
            inboxId: { type: 'string' },
            userId: { type: 'string' },
            transport: { type: 'string', enum: ['imap', 'forwarding'] },
            imap: server,
            smtp: server,
            useForMeetings: { type: 'boolean' },
            syncWindowDays: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
          },
        },
        response: { 201: connectionSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await connectEmail(env, requireActor(req), req.body)),
  );

  app.get('/connections/:id', { schema: { tags: ['connections'], summary: 'One connection with its state and sync progress', params: idParams, response: { 200: connectionSchema, ...errorResponses } } }, async (req) => {
    const actor = requireActor(req);
    const c = await loadConnection(env.db, actor.accountId, req.params.id);
    authorize(actor, connectionPolicies.view, { type: c.type, userId: c.user_id });
    return connectionViewOf(env.db, c);
  });

  app.patch(
    '/connections/:id',
    {
      schema: {
        tags: ['connections'],
        summary: 'Change the meetings flag, default "from", team sender settings or send limits',
        params: idParams,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            useForMeetings: { type: 'boolean' },
            isDefaultFrom: { type: 'boolean' },
            senderName: {
              type: 'object',
              required: ['mode'],
              additionalProperties: false,
              properties: { mode: { type: 'string', enum: ['agent_at_inbox', 'inbox', 'company', 'custom'] }, custom: { type: ['string', 'null'], maxLength: 200 } },
            },
            signature: { type: ['string', 'null'], maxLength: 10000 },
            sendLimits: { type: 'object', additionalProperties: false, properties: { perDay: { type: ['integer', 'null'] }, perMinute: { type: ['integer', 'null'] } } },
            syncWindowDays: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
            folders: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 500 }, minItems: 1, maxItems: 50, description: 'Folders to sync, checked like PUT /connections/{id}/folders' },
          },
        },
        response: { 200: connectionSchema, ...errorResponses },
      },
    },
    async (req) => updateConnection(env, requireActor(req), req.params.id, req.body),
  );

  app.delete(
    '/connections/:id',
    { schema: { tags: ['connections'], summary: 'Disconnect: stops sync and sending, keeps everything logged', params: idParams, response: { 200: connectionSchema, ...errorResponses } } },
    async (req) => disconnectEmail(env, requireActor(req), req.params.id),
  );

  app.post(
    '/connections/:id/release',
    {
      schema: {
        tags: ['connections'],
        summary: 'Admins: free an address held by a deactivated or removed user in one step (restore and disconnect, disconnect, or transfer)',
        params: idParams,
        body: {
          type: 'object',
          required: ['action'],
          additionalProperties: false,
          properties: { action: { type: 'string', enum: ['restore_and_disconnect', 'disconnect', 'transfer'] }, toUserId: { type: 'string' } },
        },
        response: { 200: connectionSchema, ...errorResponses },
      },
    },
    async (req) => releaseConnection(env, requireActor(req), req.params.id, req.body),
  );

  app.post(
    '/connections/:id/credentials',
    {
      schema: {
        tags: ['connections'],
        summary: 'Update the password or server settings (the fix for auth_failed); checked live, then sync resumes from its checkpoint',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { imap: serverUpdate, smtp: serverUpdate } },
        response: { 200: connectionSchema, ...errorResponses },
      },
    },
    async (req) => updateConnectionCredentials(env, requireActor(req), req.params.id, req.body),
  );

  app.post(
    '/connections/:id/forwarding-test',
    {
      schema: {
        tags: ['connections'],
        summary: 'Team email by forwarding: send a test email to the address and watch for it to come back through the forwarding',
        description: 'The test goes out through the address\'s own SMTP server; `forwardingCheck` on the connection moves from sending to waiting to verified (or not_received after 10 minutes, or send_failed with the reason).',
        params: idParams,
        response: { 202: connectionSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(202).send(await sendForwardingTest(env, requireActor(req), req.params.id)),
  );

  const foldersSchema = {
    type: 'object',
    properties: {
      folders: {
        type: 'array',
        items: {
          type: 'object',
          properties: {
            path: { type: 'string', description: 'The folder (Gmail: label) as the server names it; what `folders` of PUT takes' },
            name: { type: 'string', description: 'Its last segment, for display' },
            specialUse: { type: ['string', 'null'], description: 'SPECIAL-USE flag from the server (\\Sent, \\Junk, \\Trash, \\Drafts, \\Archive, \\All...)' },
            selected: { type: 'boolean', description: 'Synced now' },
            neverSynced: { type: ['string', 'null'], enum: ['spam', 'trash', 'drafts', null], description: 'Spam, trash or drafts: never synced, cannot be chosen' },
            selectable: { type: 'boolean', description: 'False for a parent that only holds other folders' },
          },
        },
      },
      selected: { type: 'array', items: { type: 'string' }, description: 'The folders synced, INBOX first' },
    },
  } as const;

  app.get(
    '/connections/:id/folders',
    {
      schema: {
        tags: ['connections'],
        summary: "The mailbox's folders (Gmail labels) as its IMAP server lists them now, with which are synced",
        description:
          'Personal email: the owner only (others get 404); team email: admins. Spam, trash and drafts (SPECIAL-USE \\Junk, \\Trash, \\Drafts or their common names) are listed with `neverSynced` and can never be chosen.',
        params: idParams,
        response: { 200: foldersSchema, ...errorResponses },
      },
    },
    async (req) => listConnectionFolders(env, requireActor(req), req.params.id),
  );

  app.put(
    '/connections/:id/folders',
    {
      schema: {
        tags: ['connections'],
        summary: 'Choose which folders (Gmail labels) are synced: exactly these from the next pass; a folder left out stops, what it logged stays',
        description:
          'Checked against the server: an unknown folder is refused with 422 folder_not_found (`details.folder`), spam, trash and drafts with 422 folder_never_synced (`details.reason`: spam, trash or drafts); INBOX is always synced (400 without it). The never-log lists keep applying to every folder.',
        params: idParams,
        body: {
          type: 'object',
          required: ['folders'],
          additionalProperties: false,
          properties: { folders: { type: 'array', items: { type: 'string', minLength: 1, maxLength: 500 }, minItems: 1, maxItems: 50 } },
        },
        response: { 200: foldersSchema, ...errorResponses },
      },
    },
    async (req) => chooseConnectionFolders(env, requireActor(req), req.params.id, req.body.folders),
  );

  app.post(
    '/connections/:id/sync',
    { schema: { tags: ['connections'], summary: 'Sync now', params: idParams, response: { 200: connectionSchema, ...errorResponses } } },
    async (req) => resyncConnection(env, requireActor(req), req.params.id),
  );
}

// ---------------------------------------------------------------------------------------------
// OAuth mailboxes (issue 14)
// ---------------------------------------------------------------------------------------------

const oauthStartSchema = {
  type: 'object',
  properties: {
    flowId: { type: 'string' },
    flow: { type: 'string', enum: ['code', 'device'] },
    authorizationUrl: { type: 'string', description: 'Code flow: send the browser here; it comes back to /api/v1/connections/oauth/callback' },
    userCode: { type: 'string', description: 'Device flow: the code the user types at verificationUri' },
    verificationUri: { type: 'string' },
    verificationUriComplete: { type: ['string', 'null'] },
    intervalSeconds: { type: 'integer' },
    expiresAt: { type: 'string' },
  },
} as const;

const oauthStatusSchema = {
  type: 'object',
  properties: {
    flowId: { type: 'string' },
    status: { type: 'string', enum: ['pending', 'connected', 'failed'] },
    retryAfterSeconds: { type: 'integer' },
    connection: connectionSchema,
    error: { type: 'object', properties: { code: { type: 'string' }, message: { type: 'string' } } },
  },
} as const;

export async function oauthConnectionRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;

  app.get(
    '/connections/oauth/providers',
    {
      schema: {
        tags: ['connections'],
        summary: 'OAuth providers configured on this Mailroom ("Connect with ..." buttons), and whether each offers the device flow',
        response: {
          200: {
            type: 'object',
            properties: { providers: { type: 'array', items: { type: 'object', properties: { id: { type: 'string', enum: ['google', 'microsoft', 'oidc'] }, name: { type: 'string' }, deviceFlow: { type: 'boolean' } } } } },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      requireActor(req);
      return { providers: await oauthProviders(env) };
    },
  );

  app.post(
    '/connections/oauth/start',
    {
      schema: {
        tags: ['connections'],
        summary: 'Start connecting (or reconnecting) a mailbox with OAuth: an authorization URL (code flow with PKCE) or a device code and link',
        description: 'The same rules as POST /connections apply when the sign-in completes; the address is the one signed in with (it must equal `address` when given). `connectionId` reconnects that connection (needs_reauth), keeping its history and sync checkpoint.',
        body: {
          type: 'object',
          required: ['provider'],
          additionalProperties: false,
          properties: {
            provider: { type: 'string', enum: ['google', 'microsoft', 'oidc'] },
            flow: { type: 'string', enum: ['code', 'device'], default: 'code' },
            type: { type: 'string', enum: ['personal', 'team'] },
            address: { type: 'string', maxLength: 320 },
            inboxId: { type: 'string' },
            userId: { type: 'string' },
            useForMeetings: { type: 'boolean' },
            syncWindowDays: { type: ['integer', 'null'], minimum: 1, maximum: 36500 },
            connectionId: { type: 'string', maxLength: 64 },
          },
        },
        response: { 201: oauthStartSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await startOAuthConnect(env, requireActor(req), req.body)),
  );

  app.post(
    '/connections/oauth/callback',
    {
      schema: {
        tags: ['connections'],
        summary: 'Finish a code-flow sign-in: the URL the provider redirected the browser to (PUBLIC_URL/settings/email?code=...&state=...)',
        description: 'The state must be one this user started, unexpired and unused (it is used up by this call). The signed-in address must be verified and equal the one typed (if any); then the same rules as POST /connections apply.',
        body: { type: 'object', required: ['url'], additionalProperties: false, properties: { url: { type: 'string', minLength: 1, maxLength: 8192 } } },
        response: { 200: connectionSchema, ...errorResponses },
      },
    },
    async (req) => {
      let url: URL;
      try {
        url = new URL(req.body.url, redirectUri(env));
      } catch {
        throw new AppError('invalid_request', 400, 'Send the whole address the provider sent your browser back to, as `url`.', { field: 'url' });
      }
      return completeOAuthCallback(env, requireActor(req), url);
    },
  );

  app.post(
    '/connections/oauth/flows/:id/poll',
    {
      schema: {
        tags: ['connections'],
        summary: 'Device flow: whether the user entered the code yet (pending, connected, failed)',
        description: "Mailroom's worker polls the provider in the background at the provider's interval (slow_down honoured) until the code is approved, denied or expires, so the page may be closed; this reads the outcome and never calls the provider. `retryAfterSeconds`: when to ask again.",
        params: idParams,
        response: { 200: oauthStatusSchema, ...errorResponses },
      },
    },
    async (req) => deviceFlowStatus(env, requireActor(req), req.params.id),
  );

  app.get(
    '/connections/oauth/flows',
    {
      schema: {
        tags: ['connections'],
        summary: "Your device-flow sign-ins still waiting for the code to be entered (Mailroom keeps polling them in the background)",
        response: {
          200: {
            type: 'object',
            properties: {
              flows: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    flowId: { type: 'string' },
                    provider: { type: 'string', enum: ['google', 'microsoft', 'oidc'] },
                    providerName: { type: 'string' },
                    userCode: { type: 'string' },
                    verificationUri: { type: 'string' },
                    verificationUriComplete: { type: ['string', 'null'] },
                    intervalSeconds: { type: 'integer' },
                    expiresAt: { type: 'string' },
                    connectionId: { type: ['string', 'null'] },
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => ({ flows: await pendingDeviceFlows(env, requireActor(req)) }),
  );
}
