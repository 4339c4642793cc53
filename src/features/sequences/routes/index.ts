/**
 * The sequences API (registered by src/app/http.ts under /api/v1): sequences and their steps, enrolling
 * a contact, enrollments with their state, reason and history, the user's task queue. The one-click
 * unsubscribe endpoint (./unsubscribe.ts) is public and registered outside the API.
 */
import type { ApiApp } from '../../../platform/http/typed.js';
import { requireActor } from '../../../platform/http/auth.js';
import { errorResponses, idParams } from '../../../platform/http/schemas.js';
import { createSequence } from '../commands/createSequence.js';
import { archiveSequence, updateSequence } from '../commands/updateSequence.js';
import { enrollContact } from '../commands/enrollContact.js';
import { enrollContacts, MAX_BULK_ENROLL } from '../commands/enrollContacts.js';
import { completeTask, resumeEnrollment, unenrollContact } from '../commands/manageEnrollment.js';
import { getEnrollment, getEnrollments, getSequence, getSequences, getTasks } from '../commands/reads.js';
import { ENROLLMENT_STATES, STEP_TYPES } from '../domain/definition.js';

const tags = ['sequences'];
const variantSchema = { type: 'object', properties: { subject: { type: 'string', maxLength: 998 }, html: { type: 'string', maxLength: 200_000 } } } as const;
const stepSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: [...STEP_TYPES] },
    delay: { type: 'object', properties: { unit: { type: 'string', enum: ['business_days', 'hours'] }, value: { type: 'integer' } } },
    variants: { type: 'array', items: variantSchema },
    note: { type: 'string' },
  },
} as const;
const settingsSchema = {
  type: 'object',
  properties: {
    timeZone: { type: 'string' },
    window: { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' } } },
    weekdays: { type: 'array', items: { type: 'integer' } },
    holidays: { type: 'array', items: { type: 'string' } },
    threaded: { type: 'boolean' },
    unenrollOnCompanyReply: { type: 'boolean' },
    trackOpens: { type: ['boolean', 'null'], description: "Open tracking of the email steps; null: the sender's own default (email preferences)" },
    trackClicks: { type: ['boolean', 'null'], description: "Click tracking of the email steps; null: the sender's own default" },
  },
} as const;
const sequenceSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    name: { type: 'string' },
    ownerId: { type: 'string' },
    version: { type: 'integer' },
    archived: { type: 'boolean' },
    settings: settingsSchema,
    steps: { type: 'array', items: stepSchema },
    enrollments: { type: 'object', properties: { active: { type: 'integer' }, total: { type: 'integer' } } },
    stats: {
      type: 'object',
      additionalProperties: true,
      description:
        'Per sequence, and per step and variant (steps[]): enrolled, queued, sent, failed, delivered, bounced, replied (replyRate = replied / delivered), unsubscribed, meetings. ' +
        'tracked: emails sent with open or click tracking; opened / clicked: how many of them were opened / clicked at least once (a click counts as an open), null when none was tracked. ' +
        'Opens and clicks are INDICATIVE only: privacy proxies (Apple Mail Privacy Protection) and link scanners inflate them, readers who block images are never counted; hits recognised as bots or prefetches are left out.',
    },
    createdAt: { type: 'string' },
    updatedAt: { type: 'string' },
  },
} as const;
const enrollmentSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    sequenceId: { type: 'string' },
    sequenceName: { type: ['string', 'null'] },
    sequenceVersion: { type: 'integer' },
    contactId: { type: 'string' },
    contactName: { type: ['string', 'null'] },
    contactEmail: { type: 'string' },
    userId: { type: 'string' },
    connectionId: { type: 'string' },
    timeZone: { type: 'string' },
    state: { type: 'string', enum: [...ENROLLMENT_STATES] },
    reason: { type: ['string', 'null'] },
    stepIndex: { type: 'integer' },
    steps: { type: 'integer' },
    nextStep: { type: ['object', 'null'], properties: { index: { type: 'integer' }, type: { type: 'string' }, dueAt: { type: ['string', 'null'] } } },
    enrolledAt: { type: 'string' },
    endedAt: { type: ['string', 'null'] },
    history: { type: 'array', items: { type: 'object', properties: { kind: { type: 'string' }, reason: { type: ['string', 'null'] }, data: { type: 'object', additionalProperties: true }, at: { type: 'string' } } } },
    stepsRun: { type: 'array', items: { type: 'object', additionalProperties: true } },
  },
} as const;
const taskSchema = {
  type: 'object',
  properties: {
    enrollmentId: { type: 'string' },
    stepIndex: { type: 'integer' },
    type: { type: 'string' },
    state: { type: 'string' },
    subject: { type: 'string' },
    dueAt: { type: 'string' },
    doneAt: { type: ['string', 'null'] },
    contactId: { type: 'string' },
    contactEmail: { type: 'string' },
  },
} as const;
const stepInput = {
  type: 'object',
  required: ['type'],
  additionalProperties: false,
  properties: {
    id: { type: 'string', maxLength: 40 },
    type: { type: 'string', maxLength: 40 },
    delay: { type: 'object', additionalProperties: false, properties: { unit: { type: 'string', maxLength: 20 }, value: { type: 'integer' } } },
    subject: { type: 'string', maxLength: 998 },
    html: { type: 'string', maxLength: 200_000 },
    variants: { type: 'array', maxItems: 10, items: { type: 'object', additionalProperties: false, properties: { subject: { type: 'string', maxLength: 998 }, html: { type: 'string', maxLength: 200_000 } } } },
    note: { type: 'string', maxLength: 5000 },
  },
} as const;
const settingsInput = {
  type: 'object',
  additionalProperties: false,
  properties: {
    timeZone: { type: 'string', maxLength: 64 },
    window: { type: 'object', additionalProperties: false, properties: { start: { type: 'string', maxLength: 5 }, end: { type: 'string', maxLength: 5 } } },
    weekdays: { type: 'array', maxItems: 7, items: { type: 'integer' } },
    holidays: { type: 'array', maxItems: 2000, items: { type: 'string', maxLength: 10 } },
    holidaysIcs: { type: 'string', maxLength: 2_000_000, description: 'An iCalendar file: its event dates are added to the holidays' },
    threaded: { type: 'boolean' },
    unenrollOnCompanyReply: { type: 'boolean' },
    trackOpens: { type: ['boolean', 'null'], description: "Track opens of the email steps (a pixel); null or omitted: the sender's own default. Off on a plan without tracking." },
    trackClicks: { type: ['boolean', 'null'], description: "Track clicks of the email steps (signed redirect links); null or omitted: the sender's own default. Off on a plan without tracking." },
  },
} as const;
const sequenceInput = {
  type: 'object',
  additionalProperties: false,
  properties: { name: { type: 'string', maxLength: 400 }, settings: settingsInput, steps: { type: 'array', maxItems: 50, items: stepInput } },
} as const;

export async function sequencesRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;

  app.get(
    '/sequences',
    {
      schema: {
        tags,
        summary: "The account's sequences, by name",
        querystring: { type: 'object', additionalProperties: false, properties: { archived: { type: 'boolean' } } },
        response: { 200: { type: 'object', properties: { sequences: { type: 'array', items: sequenceSchema } } }, ...errorResponses },
      },
    },
    async (req) => getSequences(env, requireActor(req), req.query),
  );

  app.post(
    '/sequences',
    {
      schema: {
        tags,
        summary: 'Create a sequence',
        description: 'Steps: email (subject and HTML body with tokens, or up to 5 A/B variants), manual_email, call, task; delays in business_days (0-90) or hours. 409 plan_limit_reached beyond the plan\'s `sequences`.',
        body: { ...sequenceInput, required: ['name', 'steps'] },
        response: { 201: sequenceSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await createSequence(env, requireActor(req), req.body)),
  );

  app.get(
    '/sequences/:id',
    { schema: { tags, summary: 'A sequence, with its stats per step and variant (opens and clicks indicative)', params: idParams, response: { 200: sequenceSchema, ...errorResponses } } },
    async (req) => getSequence(env, requireActor(req), req.params.id),
  );

  app.patch(
    '/sequences/:id',
    {
      schema: {
        tags,
        summary: 'Change a sequence (new enrollments get the change; enrolled contacts keep their version)',
        params: idParams,
        body: sequenceInput,
        response: { 200: sequenceSchema, ...errorResponses },
      },
    },
    async (req) => updateSequence(env, requireActor(req), req.params.id, req.body),
  );

  app.post(
    '/sequences/:id/archive',
    {
      schema: {
        tags,
        summary: 'Archive (or restore) a sequence',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { archived: { type: 'boolean', default: true } } },
        response: { 200: sequenceSchema, ...errorResponses },
      },
    },
    async (req) => archiveSequence(env, requireActor(req), req.params.id, req.body.archived !== false),
  );

  app.post(
    '/sequences/:id/enrollments',
    {
      schema: {
        tags,
        summary: 'Enroll a contact, sent from one of your personal connections',
        description:
          '409 team_connection_not_allowed for a team address; 409 already_enrolled when the contact is in a sequence; 409 contact_not_enrollable (details.reason: bounced, unsubscribed, never_log, no_email); 409 no_personal_connection; 422 unresolved_tokens.',
        params: idParams,
        body: {
          type: 'object',
          required: ['contactId'],
          additionalProperties: false,
          properties: { contactId: { type: 'string', maxLength: 64 }, connectionId: { type: 'string', maxLength: 64 }, timeZone: { type: 'string', maxLength: 64, description: "An IANA time zone for this enrollment; default: the contact's timeZone property, else yours (working hours), else the sequence's" } },
        },
        response: { 201: enrollmentSchema, ...errorResponses },
      },
    },
    async (req, reply) => reply.status(201).send(await enrollContact(env, requireActor(req), req.params.id, req.body)),
  );

  app.post(
    '/sequences/:id/enrollments/bulk',
    {
      schema: {
        tags,
        summary: `Enroll up to ${MAX_BULK_ENROLL} contacts at once, with a result per contact`,
        description:
          'Each contact is enrolled with the rules of a single enrollment, in its own transaction: results[] says enrolled (enrollmentId) or why not (code already_enrolled, contact_not_enrollable with reason bounced / unsubscribed / never_log / no_email, unresolved_tokens, not_found). 409 sequence_archived, team_connection_not_allowed or no_personal_connection refuse the whole request.',
        params: idParams,
        body: {
          type: 'object',
          required: ['contactIds'],
          additionalProperties: false,
          properties: {
            contactIds: { type: 'array', maxItems: MAX_BULK_ENROLL, items: { type: 'string', maxLength: 64 } },
            connectionId: { type: 'string', maxLength: 64 },
            timeZone: { type: 'string', maxLength: 64, description: "An IANA time zone for these enrollments; default: each contact's timeZone property, else yours, else the sequence's" },
          },
        },
        response: {
          200: {
            type: 'object',
            properties: {
              enrolled: { type: 'integer' },
              refused: { type: 'integer' },
              results: {
                type: 'array',
                items: {
                  type: 'object',
                  required: ['contactId', 'enrolled'],
                  properties: { contactId: { type: 'string' }, enrolled: { type: 'boolean' }, enrollmentId: { type: 'string' }, code: { type: 'string' }, reason: { type: 'string' }, message: { type: 'string' } },
                },
              },
            },
          },
          ...errorResponses,
        },
      },
    },
    async (req) => enrollContacts(env, requireActor(req), req.params.id, req.body),
  );

  app.get(
    '/sequence-enrollments',
    {
      schema: {
        tags,
        summary: 'Enrollments: yours (an admin: everyone\'s), newest first',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { sequenceId: { type: 'string', maxLength: 64 }, contactId: { type: 'string', maxLength: 64 }, state: { type: 'string', enum: [...ENROLLMENT_STATES] }, limit: { type: 'integer', minimum: 1, maximum: 500 } },
        },
        response: { 200: { type: 'object', properties: { enrollments: { type: 'array', items: enrollmentSchema } } }, ...errorResponses },
      },
    },
    async (req) => getEnrollments(env, requireActor(req), req.query),
  );

  app.get(
    '/sequence-enrollments/:id',
    { schema: { tags, summary: 'An enrollment, with its history (what happened and why) and its steps', params: idParams, response: { 200: enrollmentSchema, ...errorResponses } } },
    async (req) => getEnrollment(env, requireActor(req), req.params.id),
  );

  app.post(
    '/sequence-enrollments/:id/unenroll',
    { schema: { tags, summary: 'Stop an enrollment (reason manual)', params: idParams, response: { 200: enrollmentSchema, ...errorResponses } } },
    async (req) => unenrollContact(env, requireActor(req), req.params.id),
  );

  app.post(
    '/sequence-enrollments/:id/resume',
    { schema: { tags, summary: 'Resume a paused enrollment now', params: idParams, response: { 200: enrollmentSchema, ...errorResponses } } },
    async (req) => resumeEnrollment(env, requireActor(req), req.params.id),
  );

  app.post(
    '/sequence-enrollments/:id/tasks',
    {
      schema: {
        tags,
        summary: 'Mark a task of an enrollment done or skipped',
        params: idParams,
        body: { type: 'object', required: ['stepIndex'], additionalProperties: false, properties: { stepIndex: { type: 'integer', minimum: 0 }, outcome: { type: 'string', enum: ['done', 'skipped'], default: 'done' } } },
        response: { 200: { type: 'object', properties: { enrollmentId: { type: 'string' }, stepIndex: { type: 'integer' }, state: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req) => completeTask(env, requireActor(req), req.params.id, req.body.stepIndex, req.body.outcome === 'skipped' ? 'skipped' : 'done'),
  );

  app.get(
    '/sequence-tasks',
    { schema: { tags, summary: 'Your open sequence tasks (manual emails, calls, general tasks), oldest due first', response: { 200: { type: 'object', properties: { tasks: { type: 'array', items: taskSchema } } }, ...errorResponses } } },
    async (req) => getTasks(env, requireActor(req)),
  );
}
