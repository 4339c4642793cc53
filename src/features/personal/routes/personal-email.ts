/**
 * Personal email tools: compose from a contact's record, scheduled emails (cancel, replace), tracking
 * details, the actor's preferences (log/track defaults, default font, signature, never-log list), the
 * account's logging rule (admins), the BCC logging address, and the actor's own personal conversations.
 * Personal mail is private to its owner: every route here answers 404 to anyone else, admins included.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createIngestor } from '../../ingest/index.js';
import type { ComposeDeps } from '../compose.js';
import { sendEmailFromContact } from '../commands/sendEmailFromContact.js';
import { cancelScheduledEmail } from '../commands/cancelScheduledEmail.js';
import { undoPersonalEmail } from '../commands/undoPersonalEmail.js';
import { replaceScheduledEmail } from '../commands/replaceScheduledEmail.js';
import { getPersonalEmail } from '../commands/getPersonalEmail.js';
import { listPersonalEmails } from '../commands/listPersonalEmails.js';
import { listTrackingHits } from '../commands/listTrackingHits.js';
import { getEmailPreferences } from '../commands/getEmailPreferences.js';
import { updateEmailPreferences } from '../commands/updateEmailPreferences.js';
import { getAccountEmailSettings } from '../commands/getAccountEmailSettings.js';
import { updateAccountEmailSettings } from '../commands/updateAccountEmailSettings.js';
import { getLoggingAddress } from '../commands/getLoggingAddress.js';
import { getPersonalConversation, listPersonalConversations } from '../commands/getPersonalConversation.js';
import { SENDER_AUTH_SCHEMA } from '../../../mail/sender-auth.js';
import { FONT_FAMILY_IDS, MAX_FONT_PX, MIN_FONT_PX } from '../domain/font.js';
import { MAX_NEVER_LOG_ENTRIES } from '../domain/logging.js';
import { MAX_RECIPIENTS } from '../domain/compose.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const nullableString = { type: ['string', 'null'] } as const;
const addressList = { type: 'array', items: { type: 'string', maxLength: 320 }, maxItems: MAX_RECIPIENTS } as const;

const composeBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    templateId: { type: 'string', maxLength: 64, description: 'A saved template (GET /email-templates): its subject and body are used where subject or html are not given' },
    fromConnectionId: { type: 'string', maxLength: 64, description: 'One of your own personal connections; default: your default "from"' },
    to: { ...addressList, description: "Default: the contact's primary email" },
    cc: addressList,
    bcc: addressList,
    subject: { type: 'string', maxLength: 2000, description: 'May hold tokens such as {{ contact.firstName | "there" }}; required unless templateId gives it' },
    html: { type: 'string', maxLength: 2_000_000, description: 'HTML body; may hold tokens; required unless templateId gives it' },
    attachments: {
      type: 'array',
      maxItems: 50,
      items: {
        type: 'object',
        required: ['filename', 'contentBase64'],
        additionalProperties: false,
        properties: { filename: { type: 'string', maxLength: 255 }, contentType: { type: 'string', maxLength: 200 }, contentBase64: { type: 'string', maxLength: 28_000_000 } },
      },
      description: 'At most 20 MB in total (decoded)',
    },
    includeSignature: { type: 'boolean' },
    undo: { type: 'boolean', description: 'Undo send: hold the email for my undo-send delay (my setting, default 10 s) so I can undo it (POST /personal-emails/{id}/undo). Not for scheduled email' },
    undoDelaySeconds: { type: 'integer', minimum: 0, maximum: 30, description: 'Undo send: hold it exactly this long, overriding my setting. Neither given: it leaves at once' },
    log: { type: 'boolean', description: 'Override your default for this email' },
    trackOpens: { type: 'boolean' },
    trackClicks: { type: 'boolean' },
    sendAt: { type: ['string', 'null'], format: 'date-time', description: 'Schedule; omitted or past: send now' },
  },
} as const;

const trackingCountsSchema = {
  type: 'object',
  properties: {
    opensTracked: { type: 'boolean' },
    clicksTracked: { type: 'boolean' },
    links: { type: 'integer' },
    opens: { type: 'integer', description: 'Opens by people (bots and prefetches excluded)' },
    clicks: { type: 'integer' },
    flaggedOpens: { type: 'integer', description: 'Opens flagged as bots or prefetches' },
    flaggedClicks: { type: 'integer' },
    firstOpenedAt: nullableString,
    lastOpenedAt: nullableString,
  },
} as const;

export const personalEmailSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    undoUntil: { type: ['string', 'null'], description: 'Undo send (only in the answer to sending): the email waits until then; undo it before. Null: it left at once or is scheduled' },
    /** The contact's record it was written from; null once that contact was deleted. */
    contactId: nullableString,
    companyId: nullableString,
    conversationId: nullableString,
    from: nullableString,
    fromConnectionId: { type: 'string' },
    to: { type: 'array', items: { type: 'string' } },
    cc: { type: 'array', items: { type: 'string' } },
    bcc: { type: 'array', items: { type: 'string' } },
    subject: { type: 'string' },
    state: { type: 'string', enum: ['scheduled', 'queued', 'sending', 'sent', 'failed', 'cancelled', 'uncertain', 'unknown'] },
    sendAt: nullableString,
    sentAt: nullableString,
    error: nullableString,
    sendLimitResetsAt: nullableString,
    logged: { type: 'boolean' },
    loggedContactIds: { type: 'array', items: { type: 'string' } },
    tracking: trackingCountsSchema,
    replacedBy: nullableString,
    createdAt: { type: 'string' },
    createdContactIds: { type: 'array', items: { type: 'string' } },
  },
} as const;

const fontSchema = {
  type: ['object', 'null'],
  properties: { family: { type: 'string' }, sizePx: { type: 'integer' }, color: { type: 'string' }, css: { type: 'string', description: 'The font-family stack the family stands for' } },
} as const;

const preferencesSchema = {
  type: 'object',
  properties: {
    log: { type: 'boolean' },
    trackOpens: { type: 'boolean' },
    trackClicks: { type: 'boolean' },
    font: fontSchema,
    signature: nullableString,
    neverLog: { type: 'array', items: { type: 'string' } },
    fromAddresses: { type: 'array', items: { type: 'object', properties: { connectionId: { type: 'string' }, address: { type: 'string' }, isDefault: { type: 'boolean' } } } },
    loggingAddress: nullableString,
    accountRule: { type: 'object', properties: { logRule: { type: 'string' }, createContacts: { type: 'boolean' } } },
    trackingAvailable: { type: 'boolean' },
    maxAttachmentBytes: { type: 'integer' },
    fontFamilies: { type: 'array', items: { type: 'string' } },
  },
} as const;

const neverLogInput = { type: 'array', items: { type: 'string', maxLength: 320 }, maxItems: MAX_NEVER_LOG_ENTRIES, description: 'Addresses (ann@acme.com) and domains (acme.com); replaces the list' } as const;

const accountSettingsSchema = {
  type: 'object',
  properties: { logRule: { type: 'string', enum: ['replies_only', 'all_known_contacts'] }, createContacts: { type: 'boolean' }, neverLog: { type: 'array', items: { type: 'string' } } },
} as const;

const conversationSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    connectionId: { type: 'string' },
    address: { type: 'string' },
    subject: { type: 'string' },
    lastMessageAt: nullableString,
    loggedTo: { type: 'array', items: { type: 'object', properties: { contactId: { type: 'string' }, companyId: nullableString } } },
    messages: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          id: { type: 'string' },
          direction: { type: 'string' },
          from: nullableString,
          fromName: nullableString,
          to: { type: 'array', items: { type: 'string' } },
          cc: { type: 'array', items: { type: 'string' } },
          subject: { type: 'string' },
          sentAt: nullableString,
          receivedAt: nullableString,
          classification: { type: 'string' },
          text: nullableString,
          senderAuth: SENDER_AUTH_SCHEMA,
        },
      },
    },
  },
} as const;

export async function personalEmailRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  const ingestor = createIngestor(env);
  const deps: ComposeDeps = { putBlob: (raw) => ingestor.blobs.put(raw), replyTokenSecret: ingestor.replyTokenSecret };

  app.post(
    '/contacts/:id/emails',
    {
      schema: {
        tags: ['personal email'],
        summary: "Send (or schedule) an email from a contact's record through your own mailbox",
        description:
          'Tokens: contact.firstName, contact.lastName, contact.fullName, contact.email, company.name, company.domain, sender.firstName, sender.lastName, sender.fullName, sender.email; ' +
          'write {{ contact.firstName | "there" }} for a fallback. A token without a value and without a fallback is refused (422 unresolved_tokens), never sent. ' +
          'Your signature and default font are applied; links and an open pixel are added when tracking is on. The email goes on the timelines of the contacts it is logged to once sent.',
        params: idParams,
        body: composeBody,
        response: { 201: personalEmailSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await sendEmailFromContact(env, requireActor(req), req.params.id, req.body, deps)),
  );

  app.get(
    '/personal-emails',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Your emails sent or scheduled from the CRM, newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { contactId: { type: 'string', maxLength: 64 }, state: { type: 'string', enum: ['scheduled', 'queued', 'sending', 'sent', 'failed', 'cancelled', 'uncertain'] }, limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } },
        },
        response: { 200: { type: 'object', properties: { emails: { type: 'array', items: personalEmailSchema } } }, ...errorResponses },
      },
    },
    async (req) => listPersonalEmails(env, requireActor(req), req.query),
  );

  app.get(
    '/personal-emails/:id',
    { schema: { tags: ['personal email'], summary: 'One of your emails: state, schedule, tracking counts (bots excluded)', params: idParams, response: { 200: personalEmailSchema, ...errorResponses } } },
    async (req) => getPersonalEmail(env, requireActor(req), req.params.id),
  );

  app.put(
    '/personal-emails/:id',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Replace an email that has not left yet (only the user who scheduled it)',
        description: 'The old version is cancelled and points at the new one; exactly one of them is ever sent. 409 email_not_cancellable when it already left.',
        params: idParams,
        body: { ...composeBody, properties: { ...composeBody.properties } },
        response: { 200: personalEmailSchema, ...errorResponses },
      },
    },
    async (req) => replaceScheduledEmail(env, requireActor(req), req.params.id, req.body, deps),
  );

  app.delete(
    '/personal-emails/:id',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Cancel an email that has not left yet (only the user who scheduled it)',
        params: idParams,
        response: { 200: personalEmailSchema, ...errorResponses },
      },
    },
    async (req) => cancelScheduledEmail(env, requireActor(req), req.params.id),
  );

  app.post(
    '/personal-emails/:id/undo',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Undo send: stop an email still inside your undo window (409 too_late_to_undo once it is sent or being sent)',
        params: idParams,
        response: { 200: personalEmailSchema, ...errorResponses },
      },
    },
    async (req) => undoPersonalEmail(env, requireActor(req), req.params.id),
  );

  app.get(
    '/personal-emails/:id/tracking',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Opens and clicks of one of your emails; hits flagged as bots or prefetches only with includeFlagged',
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { includeFlagged: { type: 'boolean', default: false } } },
        response: {
          200: {
            type: 'object',
            properties: {
              hits: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: {
                    id: { type: 'string' },
                    kind: { type: 'string', enum: ['open', 'click'] },
                    at: { type: 'string' },
                    url: nullableString,
                    method: { type: 'string' },
                    userAgent: nullableString,
                    flagged: { type: 'boolean' },
                    flagReasons: { type: 'array', items: { type: 'string' } },
                    impliedBy: nullableString,
                  },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => listTrackingHits(env, requireActor(req), req.params.id, req.query),
  );

  app.get(
    '/email-preferences',
    { schema: { tags: ['personal email'], summary: 'Your email defaults (log, track, font, signature, never-log) and your from-addresses, default first', response: { 200: preferencesSchema, ...errorResponses } } },
    async (req) => getEmailPreferences(env, requireActor(req)),
  );

  app.patch(
    '/email-preferences',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Change your email defaults',
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            log: { type: 'boolean' },
            trackOpens: { type: 'boolean' },
            trackClicks: { type: 'boolean' },
            font: {
              type: ['object', 'null'],
              required: ['family', 'sizePx', 'color'],
              additionalProperties: false,
              properties: { family: { type: 'string', enum: FONT_FAMILY_IDS }, sizePx: { type: 'integer', minimum: MIN_FONT_PX, maximum: MAX_FONT_PX }, color: { type: 'string', maxLength: 7 } },
            },
            signature: { type: ['string', 'null'], maxLength: 10_000 },
            neverLog: neverLogInput,
          },
        },
        response: { 200: preferencesSchema, ...errorResponses },
      },
    },
    async (req) => updateEmailPreferences(env, requireActor(req), req.body),
  );

  app.get(
    '/email-preferences/logging-address',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Your BCC / forwarding logging address (created on first use)',
        response: { 200: { type: 'object', properties: { address: { type: 'string' }, acceptsFrom: { type: 'array', items: { type: 'string' } } } }, ...errorResponses },
      },
    },
    async (req) => getLoggingAddress(env, requireActor(req)),
  );

  app.get(
    '/account/email-settings',
    { schema: { tags: ['personal email'], summary: "Admins: the account's email logging rule and never-log list", response: { 200: accountSettingsSchema, ...errorResponses } } },
    async (req) => getAccountEmailSettings(env, requireActor(req)),
  );

  app.patch(
    '/account/email-settings',
    {
      schema: {
        tags: ['personal email'],
        summary: "Admins: change the account's email logging rule, create-contacts setting and never-log list",
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { logRule: { type: 'string', enum: ['replies_only', 'all_known_contacts'] }, createContacts: { type: 'boolean' }, neverLog: neverLogInput },
        },
        response: { 200: accountSettingsSchema, ...errorResponses },
      },
    },
    async (req) => updateAccountEmailSettings(env, requireActor(req), req.body),
  );

  app.get(
    '/personal-conversations',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Conversations of your own personal mailboxes, newest first',
        querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 } } },
        response: {
          200: {
            type: 'object',
            properties: {
              conversations: {
                type: 'array',
                items: { type: 'object', properties: { id: { type: 'string' }, subject: { type: 'string' }, lastMessageAt: nullableString, messageCount: { type: 'integer' }, connectionId: { type: 'string' } } },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => listPersonalConversations(env, requireActor(req), req.query),
  );

  app.get(
    '/personal-conversations/:id',
    { schema: { tags: ['personal email'], summary: 'One conversation of your own personal mailbox, with its messages (404 for anyone else)', params: idParams, response: { 200: conversationSchema, ...errorResponses } } },
    async (req) => getPersonalConversation(env, requireActor(req), req.params.id),
  );
}
