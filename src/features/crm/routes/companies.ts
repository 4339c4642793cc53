import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createCompany } from '../commands/createCompany.js';
import { updateCompany } from '../commands/updateCompany.js';
import { deleteCompany } from '../commands/deleteCompany.js';
import { listCompanies } from '../commands/listCompanies.js';
import { companyViewById } from '../queries.js';
import { MAX_DOMAINS_PER_COMPANY } from '../domain/contacts.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

export const companySchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    domains: { type: 'array', items: { type: 'string' } },
    contactsCount: { type: 'integer' },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

const domainList = {
  type: 'array',
  items: { type: 'string', maxLength: 300 },
  maxItems: MAX_DOMAINS_PER_COMPANY,
  description: 'Email domains (acme.com; URLs are accepted). Unique per account (409 company_domain_taken names the holder); free mail domains are refused.',
} as const;

export async function companyRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;

  app.get(
    '/companies',
    {
      schema: {
        tags: ['companies'],
        summary: 'List companies by name: search by name or domain, paginate',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
            cursor: { type: 'string', maxLength: 1000 },
            q: { type: 'string', maxLength: 200 },
          },
        },
        response: { 200: { type: 'object', properties: { companies: { type: 'array', items: companySchema }, nextCursor: { type: ['string', 'null'] } } }, ...errorResponses },
      },
    },
    async (req) => listCompanies(env, requireActor(req), req.query),
  );

  app.post(
    '/companies',
    {
      schema: {
        tags: ['companies'],
        summary: 'Create a company; contacts without a company at its domains join it',
        body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, domains: domainList } },
        response: { 201: companySchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createCompany(env, requireActor(req), req.body)),
  );

  app.get(
    '/companies/:id',
    { schema: { tags: ['companies'], summary: 'Get a company with its number of contacts', params: idParams, response: { 200: companySchema, ...errorResponses } } },
    async (req) => companyViewById(env.db, requireActor(req).accountId, req.params.id),
  );

  app.patch(
    '/companies/:id',
    {
      schema: {
        tags: ['companies'],
        summary: 'Rename a company or replace its domains',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { name: { type: 'string', minLength: 1, maxLength: 200 }, domains: domainList } },
        response: { 200: companySchema, ...errorResponses },
      },
    },
    async (req) => updateCompany(env, requireActor(req), req.params.id, req.body),
  );

  app.delete(
    '/companies/:id',
    {
      schema: { tags: ['companies'], summary: 'Delete a company (admins); its contacts stay, without a company', params: idParams, response: { 204: { type: 'null' }, ...errorResponses } },
    },
    async (req, reply) => {
      await deleteCompany(env, requireActor(req), req.params.id);
      return reply.status(204).send();
    },
  );
}
