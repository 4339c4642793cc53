import type { ApiApp } from '../../platform/http/typed.js';
import { requireActor } from '../../platform/http/auth.js';
import { errorResponses, idParams } from '../../platform/http/schemas.js';
import { can } from '../../platform/authorize.js';
import { createIngestor } from '../ingest/index.js';
import { isAdmin } from '../accounts/index.js';
import { createMeetingType } from './commands/createMeetingType.js';
import { updateMeetingType } from './commands/updateMeetingType.js';
import { connectCalendar, disconnectCalendar } from './commands/connectCalendar.js';
import { getBookingPage } from './commands/getBookingPage.js';
import { bookMeeting } from './commands/bookMeeting.js';
import { cancelMeeting } from './commands/cancelMeeting.js';
import { rescheduleMeeting } from './commands/rescheduleMeeting.js';
import { getManagedMeeting } from './commands/manageMeeting.js';
import { calendarRowOf, listMeetings, listPages, loadPage } from './queries.js';
import { calendarView, meetingTypeView, meetingView } from './views.js';
import { meetingsPolicies } from './policies.js';
import { authorize } from '../../platform/authorize.js';
import type { MailDeps } from './invites.js';

const range = { type: 'object', required: ['start', 'end'], properties: { start: { type: 'string' }, end: { type: 'string' } } } as const;
const availability = {
  type: 'object',
  required: ['timeZone', 'weekly'],
  additionalProperties: false,
  properties: {
    timeZone: { type: 'string', maxLength: 64 },
    weekly: { type: 'object', additionalProperties: false, patternProperties: { '^[1-7]$': { type: 'array', maxItems: 12, items: range } } },
    overrides: { type: 'array', maxItems: 400, items: { type: 'object', required: ['date', 'ranges'], properties: { date: { type: 'string' }, ranges: { type: 'array', maxItems: 12, items: range } } } },
  },
} as const;
const bookingWindow = {
  type: 'object',
  required: ['kind'],
  properties: { kind: { type: 'string', enum: ['rolling', 'range'] }, days: { type: 'integer' }, start: { type: 'string' }, end: { type: 'string' } },
} as const;
const question = { type: 'object', required: ['id', 'label', 'required'], additionalProperties: false, properties: { id: { type: 'string', maxLength: 40 }, label: { type: 'string', maxLength: 200 }, required: { type: 'boolean' } } } as const;

export const meetingTypeSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    slug: { type: 'string' },
    url: { type: 'string', description: 'The public booking page (no sign-in)' },
    name: { type: 'string' },
    description: { type: 'string' },
    kind: { type: 'string', enum: ['single', 'group', 'round_robin'] },
    ownerUserId: { type: 'string' },
    hostUserIds: { type: 'array', items: { type: 'string' } },
    preferContactOwner: { type: 'boolean' },
    durationMin: { type: 'integer' },
    intervalMin: { type: ['integer', 'null'] },
    minNoticeMin: { type: 'integer' },
    bufferBeforeMin: { type: 'integer' },
    bufferAfterMin: { type: 'integer' },
    window: { type: 'object', additionalProperties: true },
    maxPerDay: { type: ['integer', 'null'] },
    availability: { type: 'object', additionalProperties: true },
    questions: { type: 'array', items: question },
    reminders: { type: 'array', items: { type: 'integer' }, description: 'Reminders to the visitor, minutes before the start' },
    active: { type: 'boolean' },
    createdAt: { type: 'string' },
  },
} as const;

export const meetingSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    meetingTypeId: { type: 'string' },
    hostUserId: { type: 'string' },
    hostUserIds: { type: 'array', items: { type: 'string' } },
    contactId: { type: ['string', 'null'] },
    start: { type: 'string' },
    end: { type: 'string' },
    status: { type: 'string', enum: ['booked', 'cancelled'] },
    uid: { type: 'string' },
    sequence: { type: 'integer' },
    visitorName: { type: 'string' },
    visitorEmail: { type: 'string' },
    visitorTimeZone: { type: 'string' },
    answers: { type: 'object', additionalProperties: true },
    visitorResponse: { type: ['string', 'null'], enum: ['ACCEPTED', 'DECLINED', 'TENTATIVE', null], description: "The visitor's answer to the invitation, from their iTIP REPLY" },
    calendarError: { type: ['string', 'null'] },
    createdAt: { type: 'string' },
    cancelledAt: { type: ['string', 'null'] },
  },
} as const;

const calendarSchema = {
  type: 'object',
  properties: {
    connected: { type: 'boolean' },
    serverUrl: { type: ['string', 'null'] },
    username: { type: ['string', 'null'] },
    calendarUrl: { type: ['string', 'null'] },
    lastError: { type: ['string', 'null'], description: 'Why the calendar could not be read last time (you are shown as unavailable until it can)' },
    lastCheckedAt: { type: ['string', 'null'] },
  },
} as const;

const publicPageSchema = {
  type: 'object',
  properties: {
    page: {
      type: 'object',
      properties: {
        slug: { type: 'string' },
        name: { type: 'string' },
        description: { type: 'string' },
        kind: { type: 'string' },
        durationMin: { type: 'integer' },
        hostNames: { type: 'array', items: { type: 'string' } },
        hostTimeZone: { type: 'string' },
        questions: { type: 'array', items: question },
      },
    },
    timeZone: { type: 'string' },
    from: { type: 'string' },
    days: { type: 'integer' },
    unavailable: { type: 'boolean' },
    slotDays: {
      type: 'array',
      items: {
        type: 'object',
        properties: { date: { type: 'string' }, slots: { type: 'array', items: { type: 'object', properties: { start: { type: 'string' }, end: { type: 'string' }, label: { type: 'string' } } } } },
      },
    },
  },
} as const;

const managedSchema = {
  type: 'object',
  properties: {
    id: { type: 'string' },
    status: { type: 'string', enum: ['booked', 'cancelled'] },
    start: { type: 'string' },
    end: { type: 'string' },
    visitorName: { type: 'string' },
    visitorTimeZone: { type: 'string' },
    pageName: { type: 'string' },
    pageSlug: { type: 'string' },
    hostName: { type: 'string' },
  },
} as const;

const meetingTypeFields = {
  name: { type: 'string', maxLength: 200 },
  slug: { type: 'string', maxLength: 60 },
  description: { type: 'string', maxLength: 5000 },
  hostUserIds: { type: 'array', maxItems: 50, items: { type: 'string' } },
  connectionId: { type: 'string' },
  preferContactOwner: { type: 'boolean' },
  durationMin: { type: 'integer' },
  intervalMin: { type: ['integer', 'null'] },
  minNoticeMin: { type: 'integer' },
  bufferBeforeMin: { type: 'integer' },
  bufferAfterMin: { type: 'integer' },
  window: bookingWindow,
  maxPerDay: { type: ['integer', 'null'] },
  availability,
  questions: { type: 'array', maxItems: 20, items: question },
  reminders: { type: 'array', maxItems: 3, items: { type: 'integer', minimum: 5, maximum: 20160 } },
} as const;

/** The booking window as the commands take it (a rolling window defaults to 60 days). */
function bookingWindowOf(
  w: { kind: 'rolling' | 'range'; days?: number; start?: string; end?: string } | undefined,
): { kind: 'range'; start: string; end: string } | { kind: 'rolling'; days: number } | undefined {
  if (!w) return undefined;
  return w.kind === 'range' ? { kind: 'range', start: w.start ?? '', end: w.end ?? '' } : { kind: 'rolling', days: w.days ?? 60 };
}

const slugParams = { type: 'object', required: ['slug'], properties: { slug: { type: 'string', maxLength: 60 } } } as const;
const tokenParams = { type: 'object', required: ['token'], properties: { token: { type: 'string', maxLength: 200 } } } as const;
const publicLimit = { max: 30, timeWindow: '1 minute' };

export async function meetingsRoutes(app: ApiApp): Promise<void> {
  const env = app.deps.env;
  const ingestor = createIngestor(env);
  const deps: MailDeps = { putBlob: (raw) => ingestor.blobs.put(raw), replyTokenSecret: ingestor.replyTokenSecret };

  app.get(
    '/meeting-types',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Your booking pages (admins: every page of the account with ?all=true)',
        querystring: { type: 'object', properties: { all: { type: 'boolean', default: false } } },
        response: { 200: { type: 'object', properties: { meetingTypes: { type: 'array', items: meetingTypeSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const pages = await listPages(env.db, actor.accountId, req.query.all && isAdmin(actor.user) ? null : actor.user.id);
      return { meetingTypes: pages.map((p) => meetingTypeView(p, env.settings.publicUrl)) };
    },
  );

  app.post(
    '/meeting-types',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Publish a booking page on your personal meetings connection (team email is refused: team_address_not_allowed_for_meetings)',
        body: {
          type: 'object',
          required: ['name', 'slug', 'durationMin', 'availability'],
          additionalProperties: false,
          properties: { ...meetingTypeFields, kind: { type: 'string', enum: ['single', 'group', 'round_robin'] } },
        },
        response: { 201: meetingTypeSchema, ...errorResponses },
      },
    },
    async (req, reply) => {
      const { window: w, availability: a, ...rest } = req.body;
      const window = bookingWindowOf(w);
      const created = await createMeetingType(env, requireActor(req), { ...rest, ...(window ? { window } : {}), availability: { timeZone: a.timeZone, weekly: a.weekly, ...(a.overrides ? { overrides: a.overrides } : {}) } });
      reply.code(201);
      return created;
    },
  );

  app.patch(
    '/meeting-types/:id',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Change a booking page (active: false unpublishes it; bookings stay)',
        params: idParams,
        body: { type: 'object', additionalProperties: false, properties: { ...meetingTypeFields, active: { type: 'boolean' } } },
        response: { 200: meetingTypeSchema, ...errorResponses },
      },
    },
    async (req) => {
      const { window: w, availability: a, ...rest } = req.body;
      const window = bookingWindowOf(w);
      return updateMeetingType(env, requireActor(req), req.params.id, { ...rest, ...(window ? { window } : {}), ...(a ? { availability: { timeZone: a.timeZone, weekly: a.weekly, ...(a.overrides ? { overrides: a.overrides } : {}) } } : {}) });
    },
  );

  app.get(
    '/meeting-types/:id',
    { schema: { tags: ['meetings'], summary: 'One booking page', params: idParams, response: { 200: meetingTypeSchema, ...errorResponses } } },
    async (req) => {
      const actor = requireActor(req);
      const page = await loadPage(env.db, actor.accountId, req.params.id);
      authorize(actor, meetingsPolicies.manage, { ownerUserId: page.row.owner_user_id, hostUserIds: page.hostUserIds });
      return meetingTypeView(page, env.settings.publicUrl);
    },
  );

  app.get(
    '/meetings',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Meetings you host from now on (admins: everyone\'s with ?all=true)',
        querystring: { type: 'object', properties: { all: { type: 'boolean', default: false } } },
        response: { 200: { type: 'object', properties: { meetings: { type: 'array', items: meetingSchema } } }, ...errorResponses },
      },
    },
    async (req) => {
      const actor = requireActor(req);
      const rows = await listMeetings(env.db, actor.accountId, req.query.all && isAdmin(actor.user) ? null : actor.user.id, env.now());
      return { meetings: rows.map(meetingView) };
    },
  );

  app.get(
    '/meetings/calendar',
    { schema: { tags: ['meetings'], summary: 'Your CalDAV calendar connection (busy times and where bookings are written)', response: { 200: calendarSchema, ...errorResponses } } },
    async (req) => {
      const actor = requireActor(req);
      if (!can(actor, meetingsPolicies.calendarOf, { userId: actor.user.id })) return calendarView(null);
      return calendarView(await calendarRowOf(env.db, actor.user.id));
    },
  );

  app.put(
    '/meetings/calendar',
    {
      schema: {
        tags: ['meetings'],
        summary: 'Connect your CalDAV calendar (checked now; Nextcloud, Radicale, Fastmail, iCloud...)',
        body: {
          type: 'object',
          required: ['serverUrl', 'username', 'password'],
          additionalProperties: false,
          properties: { serverUrl: { type: 'string', maxLength: 2000 }, username: { type: 'string', maxLength: 320 }, password: { type: 'string', maxLength: 1024 }, calendarUrl: { type: ['string', 'null'], maxLength: 2000 } },
        },
        response: { 200: calendarSchema, ...errorResponses },
      },
    },
    async (req) => connectCalendar(env, requireActor(req), req.body),
  );

  app.delete(
    '/meetings/calendar',
    { schema: { tags: ['meetings'], summary: 'Disconnect your CalDAV calendar', response: { 200: calendarSchema, ...errorResponses } } },
    async (req) => disconnectCalendar(env, requireActor(req)),
  );

  // Public (no sign-in): the booking page, booking, and the signed manage links.

  app.get(
    '/booking-pages/:slug',
    {
      config: { public: true, rateLimit: { max: 120, timeWindow: '1 minute' } },
      schema: {
        tags: ['meetings'],
        security: [],
        summary: 'A public booking page and its free slots in the visitor\'s time zone (no sign-in)',
        params: slugParams,
        querystring: { type: 'object', properties: { timeZone: { type: 'string', maxLength: 64 }, from: { type: 'string', maxLength: 10 }, days: { type: 'integer', minimum: 1, maximum: 62 } } },
        response: { 200: publicPageSchema, ...errorResponses },
      },
    },
    async (req) => getBookingPage(env, req.params.slug, req.query),
  );

  app.post(
    '/booking-pages/:slug/bookings',
    {
      config: { public: true, rateLimit: publicLimit },
      schema: {
        tags: ['meetings'],
        security: [],
        summary: 'Book a slot (no sign-in). 409 slot_taken with details.nextSlots when it was just taken',
        params: slugParams,
        body: {
          type: 'object',
          required: ['start', 'name', 'email'],
          additionalProperties: false,
          properties: {
            start: { type: 'string', maxLength: 40 },
            name: { type: 'string', minLength: 1, maxLength: 200 },
            email: { type: 'string', maxLength: 320 },
            timeZone: { type: 'string', maxLength: 64 },
            answers: { type: 'object', additionalProperties: { type: 'string', maxLength: 2000 } },
          },
        },
        response: { 201: { type: 'object', properties: { meeting: managedSchema, manageToken: { type: 'string' } } }, ...errorResponses },
      },
    },
    async (req, reply) => {
      const r = await bookMeeting(env, deps, req.params.slug, req.body);
      reply.code(201);
      return { meeting: await getManagedMeeting(env, r.manageToken), manageToken: r.manageToken };
    },
  );

  app.get(
    '/booking-links/:token',
    { config: { public: true, rateLimit: { max: 120, timeWindow: '1 minute' } }, schema: { tags: ['meetings'], security: [], summary: 'The booking behind a signed manage link', params: tokenParams, response: { 200: managedSchema, ...errorResponses } } },
    async (req) => getManagedMeeting(env, req.params.token),
  );

  app.post(
    '/booking-links/:token/cancel',
    {
      config: { public: true, rateLimit: publicLimit },
      schema: { tags: ['meetings'], security: [], summary: 'Cancel a booking from its signed link (sends METHOD:CANCEL)', params: tokenParams, body: { type: 'object', additionalProperties: false, properties: { reason: { type: 'string', maxLength: 500 } } }, response: { 200: managedSchema, ...errorResponses } },
    },
    async (req) => {
      await cancelMeeting(env, deps, req.params.token, req.body?.reason);
      return getManagedMeeting(env, req.params.token);
    },
  );

  app.post(
    '/booking-links/:token/reschedule',
    {
      config: { public: true, rateLimit: publicLimit },
      schema: { tags: ['meetings'], security: [], summary: 'Move a booking to another free slot (sends an updated REQUEST, SEQUENCE raised)', params: tokenParams, body: { type: 'object', required: ['start'], additionalProperties: false, properties: { start: { type: 'string', maxLength: 40 } } }, response: { 200: managedSchema, ...errorResponses } },
    },
    async (req) => {
      await rescheduleMeeting(env, deps, req.params.token, req.body.start);
      return getManagedMeeting(env, req.params.token);
    },
  );
}
