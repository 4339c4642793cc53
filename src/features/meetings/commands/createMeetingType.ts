import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { recordAudit } from '../../../platform/audit.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { checkRules, DEFAULT_MIN_NOTICE_MIN, type BookingWindow, type HostAvailability, type PageKind } from '../domain/slots.js';
import { checkSlug } from '../links.js';
import { meetingsPolicies } from '../policies.js';
import { hostUsers, loadPage, meetingsConnectionOf, type Question } from '../queries.js';
import { meetingTypeView, type MeetingTypeView } from '../views.js';

export interface MeetingTypeInput {
  name: string;
  slug: string;
  description?: string;
  /** single (default): the creator hosts; group: every host must be free; round_robin: any host. */
  kind?: PageKind;
  /** group / round_robin: the hosts (users of the account, each with a personal meetings connection). */
  hostUserIds?: string[];
  /**
   * The creator's meetings connection, when given: it must be THEIR personal connection flagged "use for
   * meetings". A team address is refused (team_address_not_allowed_for_meetings).
   */
  connectionId?: string;
  preferContactOwner?: boolean;
  durationMin: number;
  intervalMin?: number | null;
  minNoticeMin?: number;
  bufferBeforeMin?: number;
  bufferAfterMin?: number;
  window?: BookingWindow;
  maxPerDay?: number | null;
  availability: HostAvailability;
  questions?: Question[];
  /** Reminders to the visitor, in minutes before the start (at most 3, each 5 minutes to 14 days). */
  reminders?: number[];
}

const MEETINGS_RESOLUTION = 'Connect your own address as personal email and turn on "use for meetings" for it (Settings, Email).';

/** Refuses a team address for meetings, naming why (a shared address has no one owner or calendar). */
export function teamAddressRefusal(address: string): AppError {
  return new AppError(
    'team_address_not_allowed_for_meetings',
    422,
    `${address} is team email, and team email cannot be used for meetings: a shared address has no one owner or calendar, so invitations would come from nobody in particular and nobody's availability would be checked.`,
    { field: 'connectionId' },
    { resolution: MEETINGS_RESOLUTION },
  );
}

/** Every host needs a live personal connection flagged for meetings; the creator's given connection is checked. */
export async function checkHosts(db: Executor, actor: Actor, hostIds: readonly string[], connectionId?: string): Promise<void> {
  if (connectionId) {
    const c = await db.selectFrom('connections').selectAll().where('id', '=', connectionId).where('account_id', '=', actor.accountId).executeTakeFirst();
    if (!c || (c.type === 'personal' && c.user_id !== actor.user.id)) throw notFound('Connection');
    if (c.type === 'team') throw teamAddressRefusal(c.address);
    if (c.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected. Connect it again to use it for meetings.`, { field: 'connectionId' });
    if (c.use_for_meetings !== 1) throw new AppError('meetings_connection_required', 422, `${c.address} is not your meetings address.`, { field: 'connectionId' }, { resolution: `Turn on "use for meetings" for ${c.address} (Settings, Email), then publish the page.` });
  }
  const users = await hostUsers(db, actor.accountId, hostIds);
  for (const id of hostIds) {
    const u = users.find((x) => x.id === id);
    if (!u) throw invalidRequest(`Host ${id} is not a user of this account.`, { field: 'hostUserIds' });
    if (u.state !== 'active') throw invalidRequest(`${u.name} is not active and cannot host meetings.`, { field: 'hostUserIds' });
    if (!(await meetingsConnectionOf(db, actor.accountId, id))) {
      const self = id === actor.user.id;
      throw new AppError(
        'meetings_connection_required',
        422,
        `${self ? 'You have' : `${u.name} has`} no meetings address: meetings need a personal email connection flagged "use for meetings" (team email never can be).`,
        { field: self ? 'connectionId' : 'hostUserIds', userId: id },
        { resolution: MEETINGS_RESOLUTION },
      );
    }
  }
}

export function checkPageInput(input: MeetingTypeInput): void {
  const slugProblem = checkSlug(input.slug);
  if (slugProblem) throw invalidRequest(`The page address "${input.slug}" is not valid: ${slugProblem}.`, { field: 'slug' });
  if (!input.name.trim()) throw invalidRequest('Name the page.', { field: 'name' });
  const reminders = input.reminders ?? [];
  if (reminders.length > 3 || reminders.some((r) => !Number.isInteger(r) || r < 5 || r > 14 * 24 * 60)) throw invalidRequest('Up to 3 reminders, each from 5 minutes to 14 days (in minutes) before the meeting.', { field: 'reminders' });
  const problems = checkRules(
    {
      durationMin: input.durationMin,
      ...(input.intervalMin != null ? { intervalMin: input.intervalMin } : {}),
      ...(input.minNoticeMin !== undefined ? { minNoticeMin: input.minNoticeMin } : {}),
      ...(input.bufferBeforeMin !== undefined ? { bufferBeforeMin: input.bufferBeforeMin } : {}),
      ...(input.bufferAfterMin !== undefined ? { bufferAfterMin: input.bufferAfterMin } : {}),
      window: input.window ?? { kind: 'rolling', days: 60 },
      maxPerDay: input.maxPerDay ?? null,
    },
    input.availability,
  );
  if (problems.length) throw invalidRequest(`The page's rules are not valid: ${problems.map((p) => `${p.field} ${p.reason}`).join('; ')}.`, { field: problems[0]!.field, errors: problems });
}

/**
 * Publishes a booking page. Its hosts each need a personal connection flagged "use for meetings": the
 * invitations come from the host's own mailbox. Team email is refused with
 * team_address_not_allowed_for_meetings. The slug is the public address (/meet/<slug>), unique.
 */
export async function createMeetingType(env: CommandEnv, actor: Actor, input: MeetingTypeInput): Promise<MeetingTypeView> {
  authorize(actor, meetingsPolicies.publish);
  checkPageInput(input);
  const kind = input.kind ?? 'single';
  const hostIds = kind === 'single' ? [actor.user.id] : [...new Set(input.hostUserIds ?? [])];
  if (!hostIds.length) throw invalidRequest('A group or round-robin page needs at least one host.', { field: 'hostUserIds' });
  const id = newId('mtt');
  const now = env.now();
  try {
    await env.db.transaction().execute(async (trx) => {
      await checkHosts(trx, actor, hostIds, input.connectionId);
      await trx
        .insertInto('meeting_types')
        .values({
          id,
          account_id: actor.accountId,
          owner_user_id: actor.user.id,
          slug: input.slug,
          name: input.name.trim().slice(0, 200),
          description: (input.description ?? '').slice(0, 5000),
          kind,
          host_user_ids: JSON.stringify(hostIds),
          prefer_contact_owner: input.preferContactOwner ? 1 : 0,
          duration_min: input.durationMin,
          interval_min: input.intervalMin ?? null,
          min_notice_min: input.minNoticeMin ?? DEFAULT_MIN_NOTICE_MIN,
          buffer_before_min: input.bufferBeforeMin ?? 0,
          buffer_after_min: input.bufferAfterMin ?? 0,
          booking_window: JSON.stringify(input.window ?? { kind: 'rolling', days: 60 }),
          max_per_day: input.maxPerDay ?? null,
          availability: JSON.stringify(input.availability),
          questions: JSON.stringify(input.questions ?? []),
          reminders: JSON.stringify([...new Set(input.reminders ?? [])]),
          active: 1,
          created_at: now,
          updated_at: now,
        })
        .execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'meeting_type.created', targetType: 'meeting_type', targetId: id, data: { slug: input.slug, kind, hosts: hostIds.length }, at: now });
    });
  } catch (err) {
    if (isUniqueViolation(err)) throw new AppError('slug_taken', 409, `The page address "${input.slug}" is taken. Choose another one.`, { field: 'slug' });
    throw err;
  }
  return meetingTypeView(await loadPage(env.db, actor.accountId, id), env.settings.publicUrl);
}
