import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { createContact } from '../commands/createContact.js';
import { updateContact } from '../commands/updateContact.js';
import { deleteContact } from '../commands/deleteContact.js';
import { listContacts, } from '../commands/listContacts.js';
import { getContactTimeline } from '../commands/getContactTimeline.js';
import { addContactNote } from '../commands/addContactNote.js';
import { importContacts } from '../commands/importContacts.js';
import { contactViewById } from '../queries.js';
import { MAX_EMAILS_PER_CONTACT, MAX_NOTE_LENGTH, TIMELINE_KINDS } from '../domain/contacts.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';

const nullableString = { type: ['string', 'null'] } as const;

export const contactSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    firstName: { type: 'string' },
    lastName: { type: 'string' },
    name: { type: 'string', description: 'First and last name, or the primary email when there is no name' },
    primaryEmail: nullableString,
    emails: {
      type: 'array',
      items: {
        type: 'object',
        properties: { email: { type: 'string' }, primary: { type: 'boolean' }, bouncedAt: nullableString, bounceReason: nullableString },
      },
    },
    ownerId: nullableString,
    companyId: nullableString,
    company: { type: ['object', 'null'], properties: { id: { type: 'string' }, name: { type: 'string' } } },
    source: { type: 'string' },
    timeZone: { ...nullableString, description: "The contact's IANA time zone (e.g. Asia/Kathmandu), or null when unknown. Sequence steps are scheduled in it, else in the owner's." },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;

export const timelineEventSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    kind: { type: 'string', enum: [...TIMELINE_KINDS] },
    occurredAt: { type: 'string' },
    actorUserId: nullableString,
    refType: nullableString,
    refId: nullableString,
    data: { type: 'object', additionalProperties: true },
  },
} as const;

const importRowErrorSchema = {
  type: 'object',
  properties: {
    row: { type: 'integer', description: 'Line number in the file where the row starts (the header is line 1)' },
    field: { type: 'string' },
    code: { type: 'string' },
    message: { type: 'string' },
  },
} as const;

const importReportSchema = {
  type: 'object',
  properties: {
    importId: { type: 'string' },
    dryRun: { type: 'boolean' },
    totalRows: { type: 'integer' },
    columns: { type: 'object', additionalProperties: { type: 'string' } },
    ignoredColumns: { type: 'array', items: { type: 'string' } },
    summary: {
      type: 'object',
      properties: { created: { type: 'integer' }, updated: { type: 'integer' }, skipped: { type: 'integer' }, failed: { type: 'integer' } },
    },
    companiesCreated: { type: 'integer' },
    errors: { type: 'array', items: importRowErrorSchema },
  },
} as const;

const emailList = { type: 'array', items: { type: 'string', maxLength: 320 }, maxItems: MAX_EMAILS_PER_CONTACT } as const;
const contactInputProperties = {
  firstName: { type: 'string', maxLength: 200 },
  lastName: { type: 'string', maxLength: 200 },
  name: { type: 'string', maxLength: 400, description: 'Full name, split into first and last name when neither is given' },
  emails: { ...emailList, description: 'The first is the primary email unless primaryEmail is given' },
  primaryEmail: { type: 'string', maxLength: 320 },
  ownerId: { type: ['string', 'null'], maxLength: 64 },
  companyId: { type: ['string', 'null'], maxLength: 64 },
  timeZone: { type: ['string', 'null'], maxLength: 64, description: 'IANA time zone such as Europe/Paris; null clears it. Anything else is 400 invalid_time_zone.' },
} as const;

const pageQuery = {
  limit: { type: 'integer', minimum: 1, maximum: 200, default: 50 },
  cursor: { type: 'string', maxLength: 1000 },
} as const;

export async function contactRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;

  app.get(
    '/contacts',
    {
      schema: {
        tags: ['contacts'],
        summary: 'List contacts: search, filter, paginate',
        description:
          'q: words that must all appear in the name, an email or the company name (case and accents ignored). ' +
          'Pages come with nextCursor; pass it back as cursor with the same q, filters and sort.',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...pageQuery,
            q: { type: 'string', maxLength: 200 },
            ownerId: { type: 'string', maxLength: 64 },
            companyId: { type: 'string', maxLength: 64 },
            sort: { type: 'string', enum: ['name', 'newest'], default: 'name' },
          },
        },
        response: { 200: { type: 'object', properties: { contacts: { type: 'array', items: contactSchema }, nextCursor: nullableString } }, ...errorResponses },
      },
    },
    async (req) => listContacts(env, requireActor(req), req.query),
  );

  app.post(
    '/contacts',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Create a contact',
        description:
          'An email belongs to one contact per account (409 contact_email_taken names the contact that has it). ' +
          'Without companyId the contact joins the company that has its email domain (not for free mail domains). ' +
          'Without ownerId you own it; ownerId null means no owner.',
        body: { type: 'object', additionalProperties: false, properties: contactInputProperties },
        response: { 201: contactSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createContact(env, requireActor(req), req.body)),
  );

  app.post(
    '/contacts/import',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Import contacts from a CSV file, with a per-row error report',
        description:
          'csv: the file text, with a header line naming the columns (email required; first name, last name, name, company, owner email, other emails; ' +
          'case-insensitive, common aliases). An existing email updates that contact\'s empty fields (reported as updated) and never overwrites. ' +
          'dryRun: report without changing anything. At most the plan\'s contactImportRows rows per file.',
        body: {
          type: 'object',
          required: ['csv'],
          additionalProperties: false,
          properties: { csv: { type: 'string' }, dryRun: { type: 'boolean', default: false } },
        },
        response: { 200: importReportSchema, ...errorResponses },
      },
    },
    async (req) => importContacts(env, requireActor(req), req.body),
  );

  app.get(
    '/contacts/:id',
    { schema: { tags: ['contacts'], summary: 'Get a contact', params: idParams, response: { 200: contactSchema, ...errorResponses } } },
    async (req) => contactViewById(env.db, requireActor(req).accountId, req.params.id),
  );

  app.patch(
    '/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Change a contact',
        description: 'emails replaces the whole list (kept emails keep their bounce information); primaryEmail picks the primary one.',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: contactInputProperties },
        response: { 200: contactSchema, ...errorResponses },
      },
    },
    async (req) => updateContact(env, requireActor(req), req.params.id, req.body),
  );

  app.delete(
    '/contacts/:id',
    {
      schema: {
        tags: ['contacts'],
        summary: 'Delete a contact with its emails and timeline (admins, or its owner)',
        params: idParams,
        response: { 204: { type: 'null' }, ...errorResponses },
      },
    },
    async (req, reply) => {
      await deleteContact(env, requireActor(req), req.params.id);
      return reply.status(204).send();
    },
  );

  app.get(
    '/contacts/:id/timeline',
    {
      schema: {
        tags: ['contacts'],
        summary: "A contact's timeline, newest first",
        params: idParams,
        querystring: { type: 'object', additionalProperties: false, properties: pageQuery },
        response: { 200: { type: 'object', properties: { events: { type: 'array', items: timelineEventSchema }, nextCursor: nullableString } }, ...errorResponses },
      },
    },
    async (req) => getContactTimeline(env, requireActor(req), req.params.id, req.query),
  );

  app.post(
    '/contacts/:id/notes',
    {
      schema: {
        tags: ['contacts'],
        summary: "Add a note to a contact's timeline",
        params: idParams,
        body: { type: 'object', required: ['text'], additionalProperties: false, properties: { text: { type: 'string', minLength: 1, maxLength: MAX_NOTE_LENGTH } } },
        response: { 201: timelineEventSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await addContactNote(env, requireActor(req), req.params.id, req.body)),
  );
}
