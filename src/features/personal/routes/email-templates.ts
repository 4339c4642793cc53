/**
 * Email templates and snippets (personal email tools): saved subject + body (templates) or short pieces
 * with a "/shortcut" (snippets), private to their owner or shared with the account by an admin; a preview
 * of a template for one contact lists the tokens that would stop it from being sent.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createEmailTemplate } from '../commands/createEmailTemplate.js';
import { updateEmailTemplate } from '../commands/updateEmailTemplate.js';
import { deleteEmailTemplate } from '../commands/deleteEmailTemplate.js';
import { listEmailTemplates } from '../commands/listEmailTemplates.js';
import { previewEmailTemplate } from '../commands/previewEmailTemplate.js';
import { imageTokenSchema, issueImageToken, templatePreviewImageSubject } from '../../../platform/http/image-proxy-routes.js';
import { MAX_SNIPPET_HTML, MAX_TEMPLATE_HTML, MAX_TEMPLATE_NAME, MAX_TEMPLATE_SUBJECT, } from '../domain/templates.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const templateSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: ['template', 'snippet'] },
    name: { type: 'string' },
    subject: { type: 'string' },
    html: { type: 'string' },
    shortcut: { type: ['string', 'null'] },
    shared: { type: 'boolean' },
    owner: { type: ['object', 'null'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
    editable: { type: 'boolean' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const fields = {
  name: { type: 'string', maxLength: MAX_TEMPLATE_NAME * 2 },
  subject: { type: 'string', maxLength: MAX_TEMPLATE_SUBJECT, description: 'Templates only; may hold tokens such as {{ contact.firstName | "there" }}' },
  html: { type: 'string', maxLength: Math.max(MAX_TEMPLATE_HTML, MAX_SNIPPET_HTML), description: 'HTML; may hold tokens' },
  shortcut: { type: ['string', 'null'], maxLength: 40, description: 'Snippets only: typed after "/" in the composer' },
  shared: { type: 'boolean', description: 'Everyone in the account can use it (admins only)' },
} as const;

export async function emailTemplateRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;

  app.get(
    '/email-templates',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Templates and snippets you can use: yours and the shared ones, by name',
        querystring: { type: 'object', additionalProperties: false, properties: { kind: { type: 'string', enum: ['template', 'snippet'] }, q: { type: 'string', maxLength: 200 } } },
        response: { 200: { type: 'object', properties: { templates: { type: 'array', items: templateSchema } } }, ...errorResponses },
      },
    },
    async (req) => listEmailTemplates(env, requireActor(req), req.query),
  );

  app.post(
    '/email-templates',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Save a template or snippet',
        description: 'Unknown or malformed tokens are refused when saving (400 invalid_request naming the field). 409 shortcut_in_use when you already have a snippet with that shortcut.',
        body: { type: 'object', required: ['kind', 'name', 'html'], additionalProperties: false, properties: { kind: { type: 'string', enum: ['template', 'snippet'] }, ...fields } },
        response: { 201: templateSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createEmailTemplate(env, requireActor(req), req.body)),
  );

  app.patch(
    '/email-templates/:id',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Change a template or snippet (its owner, or an admin when it is shared)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: fields },
        response: { 200: templateSchema, ...errorResponses },
      },
    },
    async (req) => updateEmailTemplate(env, requireActor(req), req.params.id, req.body),
  );

  app.delete(
    '/email-templates/:id',
    {
      schema: {
        tags: ['personal email'],
        summary: 'Delete a template or snippet (emails already sent keep their text)',
        params: idParams,
        response: { 200: { type: 'object', properties: { deleted: { type: 'boolean' }, id: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req) => deleteEmailTemplate(env, requireActor(req), req.params.id),
  );

  app.get(
    '/email-templates/:id/preview',
    {
      schema: {
        tags: ['personal email'],
        summary: 'How a template reads for one contact, with your signature and font; lists tokens without a value',
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: { contactId: { type: 'string', maxLength: 64, description: 'Required: the contact to preview for' } } },
        response: {
          200: {
            type: 'object',
            properties: {
              subject: { type: 'string' },
              html: { type: 'string' },
              problems: { type: 'array', items: { type: 'object', properties: { token: { type: 'string' }, reason: { type: 'string' }, name: { type: 'string' } }, required: ['token', 'reason'] } },
              message: { type: ['string', 'null'] },
              ...imageTokenSchema,
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => {
      const preview = await previewEmailTemplate(env, requireActor(req), req.params.id, req.query.contactId);
      // The preview's remote images load through the proxy with a token for this template's preview only.
      return { ...preview, ...issueImageToken(env, req, templatePreviewImageSubject(req.params.id)) };
    },
  );
}
