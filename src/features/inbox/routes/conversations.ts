/**
 * Conversations of team inboxes: list (views, filters, search, cursor pages), thread, reply / reply-all /
 * forward / compose, internal comments, assign, status, move, presence, attachments, and the inbox's
 * live updates as server-sent events. A conversation of an inbox the user may not see answers 404.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { notFound, invalidRequest } from '../../../platform/errors.js';
import { CONVERSATION_VIEWS } from '../domain/filters.js';
import { CONVERSATION_STATUSES } from '../domain/status.js';
import { listConversations } from '../commands/listConversations.js';
import { getConversation } from '../commands/getConversation.js';
import { assignConversation } from '../commands/assignConversation.js';
import { changeConversationStatus } from '../commands/changeConversationStatus.js';
import { moveConversation } from '../commands/moveConversation.js';
import { commentOnConversation } from '../commands/commentOnConversation.js';
import { replyToConversation } from '../commands/replyToConversation.js';
import { undoReply } from '../commands/undoReply.js';
import { composeConversation } from '../commands/composeConversation.js';
import { trackPresence } from '../commands/trackPresence.js';
import { getMessageHtml } from '../commands/getMessageHtml.js';
import { imageTokenSchema, issueImageToken } from '../../../platform/http/image-proxy-routes.js';
import { blobStoreOf, conversationAttachment, requireConversation, requireInboxAccess } from '../queries.js';
import { inboxEvents, joinPgInboxChannel, type InboxEvent } from '../live.js';
import { listenPg } from '../../../platform/database/pg-channel.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';
import { SENDER_AUTH_SCHEMA } from '../../../mail/sender-auth.js';


const nullableString = { type: ['string', 'null'] } as const;
const mailbox = { type: 'object', properties: { name: { type: 'string' }, address: { type: 'string' } } } as const;
const mailboxIn = { type: 'object', required: ['address'], additionalProperties: false, properties: { address: { type: 'string', minLength: 1, maxLength: 320 }, name: { type: 'string', maxLength: 200 } } } as const;
const attachmentIn = {
  type: 'object',
  required: ['filename', 'contentBase64'],
  additionalProperties: false,
  properties: { filename: { type: 'string', minLength: 1, maxLength: 255 }, contentType: { type: 'string', maxLength: 200 }, contentBase64: { type: 'string' } },
} as const;

export const conversationItemSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    inboxId: { type: 'string' },
    connectionId: { type: 'string' },
    subject: { type: 'string' },
    status: { type: 'string', enum: [...CONVERSATION_STATUSES] },
    snoozedUntil: nullableString,
    assignee: { type: ['object', 'null'], properties: { id: { type: 'string' }, name: { type: 'string' }, state: { type: 'string' } } },
    contact: { type: ['object', 'null'], properties: { id: { type: 'string' }, name: nullableString } },
    participants: { type: 'array', items: { type: 'string' } },
    messageCount: { type: 'integer' },
    snippet: { type: 'string' },
    lastMessageAt: { type: 'string' },
    lastInboundAt: nullableString,
    createdAt: { type: 'string' },
  },
} as const;

const activitySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['comment', 'assignment', 'status', 'move', 'spam', 'reply', 'merge'] },
    actor: { type: ['object', 'null'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
    data: { type: 'object', additionalProperties: true, description: 'comment: {body, mentions}; assignment: {by, assigneeId, summary, rule, decidedBy, skipped[{userId,name,reason,detail}], notes}; status: {from, to, summary}; move: {fromInboxId, toInboxId, summary}; spam: {reason, summary}' },
    createdAt: { type: 'string' },
  },
} as const;

const viewerSchema = { type: 'object', properties: { userId: { type: 'string' }, name: { type: 'string' }, activity: { type: 'string', enum: ['viewing', 'replying'] } } } as const;

const threadSchema = {
  type: 'object',
  properties: {
    ...conversationItemSchema.properties,
    inboxName: { type: 'string' },
    access: { type: 'string', enum: ['act', 'view'], description: 'act: a member; view: an admin who is not a member (or a view-only seat)' },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          direction: { type: 'string', enum: ['inbound', 'outbound'] },
          kind: {
            type: 'string',
            enum: ['normal', 'auto_reply', 'bounce', 'challenge', 'list', 'loop'],
            description: 'auto_reply, bounce and challenge (a challenge-response filter asking the sender to prove they are a person) are shown as such and never reopen a conversation',
          },
          bounce: {
            type: ['object', 'null'],
            properties: {
              type: { type: 'string' },
              permanent: { type: 'boolean' },
              recipients: { type: 'array', items: { type: 'object', properties: { address: { type: 'string' }, status: nullableString, diagnostic: nullableString } } },
            },
          },
          messageId: nullableString,
          subject: { type: 'string' },
          from: { type: ['object', 'null'], properties: mailbox.properties },
          to: { type: 'array', items: mailbox },
          cc: { type: 'array', items: mailbox },
          sentAt: nullableString,
          receivedAt: { type: 'string' },
          text: { type: 'string' },
          hasHtml: { type: 'boolean' },
          attachments: {
            type: 'array',
            items: { type: 'object', properties: { filename: nullableString, contentType: { type: 'string' }, size: { type: 'integer' }, sha256: { type: 'string' }, url: { type: 'string' } } },
          },
          outboxId: nullableString,
          senderAuth: SENDER_AUTH_SCHEMA,
        },
      },
    },
    outgoing: {
      type: 'array',
      description: 'Replies queued, being sent, failed or uncertain (sent ones are messages)',
      items: { type: 'object', properties: { id: { type: 'string' }, state: { type: 'string' }, error: nullableString, userId: { type: 'string' }, mode: { type: 'string' }, createdAt: { type: 'string' }, sendAt: { type: 'string' } } },
    },
    activity: { type: 'array', items: activitySchema },
    viewers: { type: 'array', items: viewerSchema },
  },
} as const;

const sentSchema = {
  type: 'object',
  properties: {
    outboxId: { type: 'string' },
    messageId: { type: 'string' },
    from: mailbox,
    to: { type: 'array', items: mailbox },
    cc: { type: 'array', items: mailbox },
    subject: { type: 'string' },
    undoUntil: { type: ['string', 'null'], description: 'Undo send: the reply waits until then; undo it before (POST /conversations/{id}/replies/{outboxId}/undo). Null: it left at once.' },
    conversation: conversationItemSchema,
  },
} as const;

const parseTime = (v: string | undefined, field: string): number | undefined => {
  if (v === undefined || v === '') return undefined;
  const n = /^\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) throw invalidRequest(`${field} must be a date and time, like 2026-03-01T09:00:00Z.`, { field });
  return n;
};

export async function conversationRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  if (env.dialect === 'postgres') {
    const url = app.deps.config.databaseUrl;
    if (url) {
      const release = await joinPgInboxChannel(url, listenPg, (err) => app.log.warn({ err: { message: err.message } }, 'inbox live updates: PostgreSQL LISTEN failed; retrying'));
      app.addHook('onClose', async () => release());
    }
  }

  app.get(
    '/inboxes/:id/conversations',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Conversations of an inbox: views, filters, search, cursor pages (newest activity first)',
        params: idParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            view: { type: 'string', enum: [...CONVERSATION_VIEWS], description: 'open (default), mine, unassigned, snoozed, closed, spam, all (every status but spam)' },
            status: { type: 'string', enum: [...CONVERSATION_STATUSES, 'any'], description: 'overrides the view\'s status' },
            assigneeId: { type: 'string', maxLength: 64, description: 'a user id (deactivated users too), "me" or "unassigned"' },
            connectionId: { type: 'string', maxLength: 64, description: 'the team address (channel)' },
            contactId: { type: 'string', maxLength: 64 },
            since: { type: 'string', maxLength: 40, description: 'last message at or after (ISO date-time or epoch ms)' },
            until: { type: 'string', maxLength: 40, description: 'last message before (ISO date-time or epoch ms)' },
            q: { type: 'string', maxLength: 200, description: 'words that must all appear (as word prefixes) in the subject, a body or the participants' },
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', maxLength: 300 },
          },
        },
        response: { 200: { type: 'object', properties: { conversations: { type: 'array', items: conversationItemSchema }, nextCursor: nullableString } }, ...errorResponses },
      },
    },
    async (req) => {
      const q = req.query;
      return listConversations(env, requireActor(req), req.params.id, {
        view: q.view,
        status: q.status,
        assigneeId: q.assigneeId,
        connectionId: q.connectionId,
        contactId: q.contactId,
        since: parseTime(q.since, 'since'),
        until: parseTime(q.until, 'until'),
        q: q.q,
        limit: q.limit,
        cursor: q.cursor,
      });
    },
  );

  app.post(
    '/inboxes/:id/conversations',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Compose a new conversation from a team address of the inbox (sent through the outbox)',
        params: idParams,
        body: {
          type: 'object',
          required: ['to', 'subject', 'text'],
          additionalProperties: false,
          properties: {
            connectionId: { type: 'string', maxLength: 64 },
            to: { type: 'array', items: mailboxIn, maxItems: 100 },
            cc: { type: 'array', items: mailboxIn, maxItems: 100 },
            bcc: { type: 'array', items: mailboxIn, maxItems: 100 },
            subject: { type: 'string', maxLength: 998 },
            text: { type: 'string' },
            html: { type: 'string' },
            attachments: { type: 'array', items: attachmentIn, maxItems: 50 },
          },
        },
        response: { 201: sentSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await composeConversation(env, requireActor(req), req.params.id, req.body)),
  );

  app.get(
    '/inboxes/:id/events',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Live updates of an inbox (server-sent events): new messages, assignments, status changes, moves, comments, presence',
        description:
          'text/event-stream. Each event: `event: <type>` and `data: {"type","inboxId","conversationId","at","data"}`; types: conversation.created, conversation.updated, conversation.moved_in, conversation.moved_out, message.created, activity.created, presence. A comment line is sent every 15 s. Access is checked again every 15 s: when it is gone (removed from the inbox, deactivated, signed out, token revoked) an `access_revoked` event is sent and the stream ends. Several processes share events through PostgreSQL LISTEN/NOTIFY.',
        params: idParams,
        response: { 200: { description: 'An endless text/event-stream', type: 'string' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const actor = requireActor(req);
      const { inbox } = await requireInboxAccess(env.db, actor, req.params.id, 'view');
      reply.hijack();
      const res = reply.raw;
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform', connection: 'keep-alive', 'x-accel-buffering': 'no' });
      res.write(`retry: 3000\n: connected to ${inbox.id}\n\n`);
      let seq = 0;
      const send = (e: InboxEvent) => {
        seq += 1;
        res.write(`id: ${e.at}-${seq}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
      };
      const unsubscribe = inboxEvents.subscribe(inbox.id, send);
      const ping = setInterval(() => res.write(': ping\n\n'), 15_000);
      ping.unref();
      // Access is checked again while the stream is open: a user removed from the inbox, deactivated,
      // signed out or whose token was revoked stops receiving events within one interval.
      let checking = false;
      const recheck = setInterval(() => {
        if (checking) return;
        checking = true;
        void (async () => {
          let allowed = false;
          try {
            const again = await app.auth.resolveActor(req);
            if (again && again.actor.user.id === actor.user.id) {
              await requireInboxAccess(env.db, again.actor, inbox.id, 'view');
              allowed = true;
            }
          } catch {
            allowed = false;
          }
          if (!allowed && !res.writableEnded) {
            res.write(`event: access_revoked\ndata: ${JSON.stringify({ type: 'access_revoked', inboxId: inbox.id, message: 'You no longer have access to this inbox, or you were signed out. Reload the page.' })}\n\n`);
            res.end();
            stop();
          }
        })().finally(() => {
          checking = false;
        });
      }, env.settings.sseRecheckMs); // MAILROOM_SSE_RECHECK_MS; tests shorten it
      recheck.unref();
      const stop = () => {
        clearInterval(ping);
        clearInterval(recheck);
        unsubscribe();
      };
      req.raw.on('close', stop);
      res.on('close', stop);
      res.on('error', stop);
    },
  );

  app.get('/conversations/:id', { schema: { tags: ['conversations'], summary: 'A conversation with its messages, outgoing mail, activity (comments, routing reasons) and viewers', params: idParams, response: { 200: threadSchema, ...errorResponses } } }, async (req) =>
    getConversation(env, requireActor(req), req.params.id),
  );

  app.post(
    '/conversations/:id/replies',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Reply, reply all or forward from the team address (replying to an unassigned conversation assigns it to you)',
        params: idParams,
        body: {
          type: 'object',
          required: ['mode', 'text'],
          additionalProperties: false,
          properties: {
            mode: { type: 'string', enum: ['reply', 'reply_all', 'forward'] },
            text: { type: 'string' },
            html: { type: 'string' },
            to: { type: 'array', items: mailboxIn, maxItems: 100, description: 'required to forward; replaces the computed recipients of a reply' },
            cc: { type: 'array', items: mailboxIn, maxItems: 100 },
            bcc: { type: 'array', items: mailboxIn, maxItems: 100 },
            attachments: { type: 'array', items: attachmentIn, maxItems: 50 },
            quote: { type: 'boolean', description: 'quote the message answered (default true)' },
            includeAttachments: { type: 'boolean', description: 'forward: include the original attachments (default true)' },
            undo: { type: 'boolean', description: 'Undo send: hold the reply for my undo-send delay (my setting, default 10 s) so I can undo it' },
            undoDelaySeconds: { type: 'integer', minimum: 0, maximum: 30, description: 'Undo send: hold it exactly this long, overriding my setting. Neither given: it leaves at once' },
          },
        },
        response: { 202: sentSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(202).send(await replyToConversation(env, requireActor(req), req.params.id, req.body)),
  );

  app.post(
    '/conversations/:id/replies/:outboxId/undo',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Undo send: stop a reply still inside your undo window (409 too_late_to_undo once it is sent or being sent)',
        params: { type: 'object', required: ['id', 'outboxId'], properties: { id: { type: 'string', maxLength: 64 }, outboxId: { type: 'string', maxLength: 64 } } },
        response: { 200: { type: 'object', properties: { outboxId: { type: 'string' }, undone: { type: 'boolean' } } }, ...errorResponses },
      },
    },
    async (req) => undoReply(env, requireActor(req), req.params.id, req.params.outboxId),
  );

  app.post(
    '/conversations/:id/comments',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Internal comment (never sent to the customer); mentions notify',
        params: idParams,
        body: { type: 'object', required: ['body'], additionalProperties: false, properties: { body: { type: 'string', minLength: 1, maxLength: 20000 }, mentions: { type: 'array', items: { type: 'string', maxLength: 64 }, maxItems: 50 } } },
        response: { 201: activitySchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await commentOnConversation(env, requireActor(req), req.params.id, req.body)),
  );

  app.post(
    '/conversations/:id/assign',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Assign to a member of the inbox, or unassign (null)',
        params: idParams,
        body: { type: 'object', required: ['assigneeId'], additionalProperties: false, properties: { assigneeId: { type: ['string', 'null'], maxLength: 64 } } },
        response: { 200: conversationItemSchema, ...errorResponses },
      },
    },
    async (req) => assignConversation(env, requireActor(req), req.params.id, req.body),
  );

  app.post(
    '/conversations/:id/status',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Open, close, snooze (until a time) or mark as spam',
        params: idParams,
        body: { type: 'object', required: ['status'], additionalProperties: false, properties: { status: { type: 'string', enum: [...CONVERSATION_STATUSES] }, snoozedUntil: { type: ['string', 'null'], maxLength: 40 } } },
        response: { 200: conversationItemSchema, ...errorResponses },
      },
    },
    async (req) => {
      const b = req.body;
      return changeConversationStatus(env, requireActor(req), req.params.id, b);
    },
  );

  app.post(
    '/conversations/:id/move',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Move to another inbox',
        params: idParams,
        body: { type: 'object', required: ['inboxId'], additionalProperties: false, properties: { inboxId: { type: 'string', minLength: 1, maxLength: 64 } } },
        response: { 200: conversationItemSchema, ...errorResponses },
      },
    },
    async (req) => moveConversation(env, requireActor(req), req.params.id, req.body),
  );

  app.post(
    '/conversations/:id/presence',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Heartbeat while a conversation is open (every 15 s; "left" when closed): answers who else is viewing or replying',
        params: idParams,
        body: { type: 'object', required: ['activity'], additionalProperties: false, properties: { activity: { type: 'string', enum: ['viewing', 'replying', 'left'] } } },
        response: { 200: { type: 'object', properties: { viewers: { type: 'array', items: viewerSchema } } }, ...errorResponses },
      },
    },
    async (req) => trackPresence(env, requireActor(req), req.params.id, req.body.activity),
  );

  app.get(
    '/conversations/:id/messages/:messageId/html',
    {
      schema: {
        tags: ['conversations'],
        summary: 'The HTML body of a message, sanitised for display in a sandboxed iframe (remote images held back unless images=show)',
        params: { type: 'object', required: ['id', 'messageId'], properties: { id: { type: 'string', maxLength: 64 }, messageId: { type: 'string', maxLength: 64 } } },
        querystring: { type: 'object', additionalProperties: false, properties: { images: { type: 'string', enum: ['block', 'show'], default: 'block' } } },
        response: { 200: { type: 'object', properties: { messageId: { type: 'string' }, html: nullableString, blockedRemoteImages: { type: 'integer' }, ...imageTokenSchema } }, ...errorResponses },
      },
    },
    async (req) => {
      const out = await getMessageHtml(env, requireActor(req), req.params.id, req.params.messageId, { allowRemoteImages: req.query.images === 'show' });
      // The frame's images load through the proxy with a token for this message only (it sends no cookie).
      return { ...out, ...issueImageToken(env, req, out.messageId) };
    },
  );

  app.get(
    '/conversations/:id/attachments/:sha256',
    {
      schema: {
        tags: ['conversations'],
        summary: 'Download an attachment of a message of the conversation',
        params: { type: 'object', required: ['id', 'sha256'], properties: { id: { type: 'string', maxLength: 64 }, sha256: { type: 'string', maxLength: 64 } } },
        response: { 200: { description: 'The file', type: 'string', format: 'binary' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { id, sha256 } = req.params;
      const { conversation } = await requireConversation(env.db, requireActor(req), id, 'view');
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw notFound('Attachment');
      const meta = await conversationAttachment(env.db, conversation.id, sha256);
      if (!meta) throw notFound('Attachment');
      const data = await blobStoreOf(env).get(sha256);
      const name = (meta.filename ?? 'attachment').replace(/[\r\n"]/g, '_');
      return reply
        .header('content-type', meta.contentType || 'application/octet-stream')
        .header('content-disposition', `attachment; filename="${name.replace(/[^\x20-\x7e]/g, '_')}"; filename*=UTF-8''${encodeURIComponent(name)}`)
        .header('x-content-type-options', 'nosniff')
        .send(data);
    },
  );
}
