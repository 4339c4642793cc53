import { parseStoredRule } from './domain/routing.js';
import { DEFAULT_SOON_MINUTES, slaOfInboxSettings } from './domain/sla.js';
import type { Executor } from '../../platform/context.js';
import type { InboxesTable } from '../../platform/database/schema.js';

const iso = (ms: number) => new Date(Number(ms)).toISOString();

export async function inboxMembersView(db: Executor, inbox: InboxesTable) {
  const rows = await db.selectFrom('inbox_members').selectAll().where('inbox_id', '=', inbox.id).orderBy('created_at').execute();
  const userIds = rows.filter((r) => r.member_type === 'user').map((r) => r.member_id);
  const teamIds = rows.filter((r) => r.member_type === 'team').map((r) => r.member_id);
  const users = userIds.length ? await db.selectFrom('users').select(['id', 'name', 'state']).where('id', 'in', userIds).execute() : [];
  const teams = teamIds.length ? await db.selectFrom('teams').select(['id', 'name']).where('id', 'in', teamIds).execute() : [];
  return {
    inboxId: inbox.id,
    access: inbox.access as 'everyone' | 'restricted',
    members: rows.map((r) => {
      const u = users.find((x) => x.id === r.member_id);
      const t = teams.find((x) => x.id === r.member_id);
      return { type: r.member_type as 'user' | 'team', id: r.member_id, name: (r.member_type === 'user' ? u?.name : t?.name) ?? '', state: r.member_type === 'user' ? (u?.state ?? 'removed') : null, addedAt: iso(r.created_at) };
    }),
  };
}

export async function routingView(db: Executor, inbox: InboxesTable) {
  const conns = await db.selectFrom('connections').select(['id', 'address']).where('inbox_id', '=', inbox.id).where('type', '=', 'team').where('disconnected_at', 'is', null).orderBy('created_at').execute();
  const rules = conns.length ? await db.selectFrom('routing_rules').selectAll().where('connection_id', 'in', conns.map((c) => c.id)).execute() : [];
  return {
    inboxId: inbox.id,
    rules: conns.map((c) => {
      const r = rules.find((x) => x.connection_id === c.id);
      return { connectionId: c.id, address: c.address, rule: parseStoredRule(r?.rule), lastAssignedUserId: r?.rr_last_user_id ?? null, updatedAt: r ? iso(r.updated_at) : null };
    }),
  };
}

export async function senderListsView(db: Executor, inbox: InboxesTable) {
  const rows = await db.selectFrom('inbox_sender_lists').selectAll().where('inbox_id', '=', inbox.id).orderBy('list').orderBy('pattern').execute();
  return { inboxId: inbox.id, entries: rows.map((r) => ({ id: r.id, list: r.list as 'allow' | 'deny', pattern: r.pattern, createdAt: iso(r.created_at) })) };
}

/** An inbox's service-level targets as the API shows them (targets null when it has none). */
export function slaSettingsView(inbox: InboxesTable) {
  const sla = slaOfInboxSettings(inbox.settings);
  return {
    inboxId: inbox.id,
    firstResponseMinutes: sla?.firstResponseMinutes ?? null,
    resolutionMinutes: sla?.resolutionMinutes ?? null,
    soonMinutes: sla?.soonMinutes ?? DEFAULT_SOON_MINUTES,
    workingHours: sla?.workingHours ?? null,
  };
}
