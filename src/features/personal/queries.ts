/**
 * Shared pieces of the personal email commands: loading a user's preferences and the account's logging
 * rule (with defaults when never saved), never-log lists, the user's own addresses, contacts created from
 * logged mail, and the API views. Personal mail is private: every loader here is scoped to its owner.
 */
import { addressKey } from '../connections/index.js';
import { contactDisplayName } from '../crm/index.js';
import { notFound } from '../../platform/errors.js';
import { checkFont, type DefaultFont } from './domain/font.js';
import { isLogRule, mailKey, type LogRule, type NeverLogEntry } from './domain/logging.js';
import { newId } from '../../platform/database/ids.js';
import type { ConnectionsTable, PersonalEmailsTable } from '../../platform/database/schema.js';
import { appendTimelineEvent } from '../crm/index.js';
import type { Actor, CommandEnv, Executor } from '../../platform/context.js';
import { companyForEmails, contactDerived } from '../crm/index.js';
import { json, readJson } from '../../platform/database/json.js';

export interface EmailPreferences {
  log: boolean;
  trackOpens: boolean;
  trackClicks: boolean;
  /** null: the recipient's client default. */
  font: DefaultFont | null;
  signature: string | null;
  neverLog: NeverLogEntry[];
}

export interface AccountEmailSettings {
  logRule: LogRule;
  createContacts: boolean;
  neverLog: NeverLogEntry[];
}

const neverLogEntry = json.object({ kind: json.oneOf(['address', 'domain'] as const), value: json.string });

/** A never-log list (JSON); entries that are not of the shape are left out, unreadable JSON reads as none. */
function parseList(text: string): NeverLogEntry[] {
  return readJson('never_log', text, json.arrayOf(json.unknown), []).filter((e): e is NeverLogEntry => neverLogEntry.is(e));
}

/** The default font (JSON), checked by the domain; anything unreadable is none (the client default). */
function parseFont(text: string | null): DefaultFont | null {
  if (!text) return null;
  const r = checkFont(readJson('email_preferences.font', text, json.record, {}));
  return r.ok ? r.font : null;
}

export async function loadEmailPreferences(db: Executor, userId: string): Promise<EmailPreferences> {
  const row = await db.selectFrom('email_preferences').selectAll().where('user_id', '=', userId).executeTakeFirst();
  if (!row) return { log: true, trackOpens: true, trackClicks: true, font: null, signature: null, neverLog: [] };
  return {
    log: row.log_emails === 1,
    trackOpens: row.track_opens === 1,
    trackClicks: row.track_clicks === 1,
    font: parseFont(row.font),
    signature: row.signature,
    neverLog: parseList(row.never_log),
  };
}

export async function loadAccountEmailSettings(db: Executor, accountId: string): Promise<AccountEmailSettings> {
  const row = await db.selectFrom('account_email_settings').selectAll().where('account_id', '=', accountId).executeTakeFirst();
  if (!row) return { logRule: 'replies_only', createContacts: false, neverLog: [] };
  return { logRule: isLogRule(row.log_rule) ? row.log_rule : 'replies_only', createContacts: row.create_contacts === 1, neverLog: parseList(row.never_log) };
}

/** Everything a logging decision about one user's mail needs. */
export interface LogContext {
  accountId: string;
  userId: string;
  rule: LogRule;
  createContacts: boolean;
  userLogs: boolean;
  neverLog: NeverLogEntry[];
  /** The user's live personal addresses and logging address (keys). */
  ownAddresses: Set<string>;
}

export async function loadLogContext(db: Executor, accountId: string, userId: string): Promise<LogContext> {
  const [account, prefs, own, logging] = await Promise.all([
    loadAccountEmailSettings(db, accountId),
    loadEmailPreferences(db, userId),
    db.selectFrom('connections').select(['address_key']).where('account_id', '=', accountId).where('user_id', '=', userId).where('type', '=', 'personal').execute(),
    db.selectFrom('logging_addresses').select('address').where('user_id', '=', userId).executeTakeFirst(),
  ]);
  const ownAddresses = new Set(own.map((r) => r.address_key));
  if (logging) ownAddresses.add(logging.address);
  return { accountId, userId, rule: account.logRule, createContacts: account.createContacts, userLogs: prefs.log, neverLog: [...account.neverLog, ...prefs.neverLog], ownAddresses };
}

/** Contact ids (and companies) by email key, for the given addresses. */
export async function contactsByAddress(db: Executor, accountId: string, addresses: readonly string[]): Promise<Map<string, { contactId: string; companyId: string | null }>> {
  const keys = [...new Set(addresses.map(mailKey))];
  const map = new Map<string, { contactId: string; companyId: string | null }>();
  for (let i = 0; i < keys.length; i += 500) {
    const part = keys.slice(i, i + 500);
    if (!part.length) continue;
    const rows = await db
      .selectFrom('contact_emails')
      .innerJoin('contacts', 'contacts.id', 'contact_emails.contact_id')
      .select(['contact_emails.email_key', 'contacts.id', 'contacts.company_id'])
      .where('contact_emails.account_id', '=', accountId)
      .where('contact_emails.email_key', 'in', part)
      .execute();
    for (const r of rows) map.set(r.email_key, { contactId: r.id, companyId: r.company_id });
  }
  return map;
}

/**
 * Creates a contact for an address seen in logged mail (owner: the mailbox's user, source 'email'), inside
 * the caller's transaction. When another writer took the address first, that contact is returned instead.
 */
export async function createContactFromEmail(trx: Executor, p: { accountId: string; ownerId: string; address: string; name?: string; now: number }): Promise<{ contactId: string; companyId: string | null; created: boolean }> {
  const r = addressKey(p.address);
  const key = r.ok ? r.key : mailKey(p.address);
  const email = r.ok ? r.display : p.address.trim();
  const existing = await contactsByAddress(trx, p.accountId, [key]);
  const found = existing.get(key);
  if (found) return { ...found, created: false };
  const id = newId('con');
  const name = (p.name ?? '').replace(/\s+/g, ' ').trim().slice(0, 200);
  const [firstName, ...rest] = name && !name.includes('@') ? name.split(' ') : [''];
  const lastName = rest.join(' ');
  const companyId = await companyForEmails(trx, p.accountId, [key]);
  const companyName = companyId ? ((await trx.selectFrom('companies').select('name').where('id', '=', companyId).executeTakeFirst())?.name ?? null) : null;
  await trx
    .insertInto('contacts')
    .values({
      id,
      account_id: p.accountId,
      first_name: firstName ?? '',
      last_name: lastName,
      owner_id: p.ownerId,
      company_id: companyId,
      source: 'email',
      created_at: p.now,
      updated_at: p.now,
      ...contactDerived({ firstName: firstName ?? '', lastName, emails: [{ email, key }], companyName }),
    })
    .execute();
  const inserted = await trx
    .insertInto('contact_emails')
    .values({ account_id: p.accountId, email_key: key, email, contact_id: id, is_primary: 1, bounced_at: null, bounce_reason: null })
    .onConflict((oc) => oc.columns(['account_id', 'email_key']).doNothing())
    .returning('email_key')
    .executeTakeFirst();
  if (!inserted) {
    await trx.deleteFrom('contacts').where('id', '=', id).execute();
    const winner = (await contactsByAddress(trx, p.accountId, [key])).get(key)!;
    return { ...winner, created: false };
  }
  await appendTimelineEvent(trx, { accountId: p.accountId, contactId: id, kind: 'contact_created', occurredAt: p.now, actorUserId: p.ownerId, refType: 'contact', refId: id, data: { source: 'email' } });
  return { contactId: id, companyId, created: true };
}

/** The user's live personal connections, default "from" first. */
export async function ownPersonalConnections(db: Executor, accountId: string, userId: string): Promise<ConnectionsTable[]> {
  const rows = await db
    .selectFrom('connections')
    .selectAll()
    .where('account_id', '=', accountId)
    .where('user_id', '=', userId)
    .where('type', '=', 'personal')
    .where('disconnected_at', 'is', null)
    .execute();
  return rows.sort((a, b) => b.is_default_from - a.is_default_from || a.address.localeCompare(b.address));
}

/** A personal email of the actor (404 for anyone else's, whatever their role: personal mail is private). */
export async function loadOwnPersonalEmail(db: Executor, actor: Actor, id: string): Promise<PersonalEmailsTable> {
  const row = await db.selectFrom('personal_emails').selectAll().where('id', '=', id).where('account_id', '=', actor.accountId).executeTakeFirst();
  if (!row || row.user_id !== actor.user.id) throw notFound('Email');
  return row;
}

export const trackingSecret = (env: CommandEnv) => env.secrets.derive('tracking');

/** `https://crm.example/t/` (no double slash when PUBLIC_URL ends with one). */
export function trackingBase(env: CommandEnv): string {
  return `${env.settings.publicUrl.replace(/\/+$/, '')}/t/`;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export interface TrackingCounts {
  opens: number;
  clicks: number;
  flaggedOpens: number;
  flaggedClicks: number;
  firstOpenedAt: string | null;
  lastOpenedAt: string | null;
}

export async function trackingCounts(db: Executor, personalEmailIds: readonly string[]): Promise<Map<string, TrackingCounts>> {
  const out = new Map<string, TrackingCounts>();
  for (const id of personalEmailIds) out.set(id, { opens: 0, clicks: 0, flaggedOpens: 0, flaggedClicks: 0, firstOpenedAt: null, lastOpenedAt: null });
  if (!personalEmailIds.length) return out;
  const rows = await db
    .selectFrom('tracking_hits')
    .select((eb) => ['personal_email_id', 'kind', 'flagged', eb.fn.countAll<number>().as('n'), eb.fn.min('occurred_at').as('first'), eb.fn.max('occurred_at').as('last')])
    .where('personal_email_id', 'in', [...personalEmailIds])
    .groupBy(['personal_email_id', 'kind', 'flagged'])
    .execute();
  for (const r of rows) {
    const c = out.get(r.personal_email_id)!;
    const n = Number(r.n);
    if (r.kind === 'open') {
      if (r.flagged) c.flaggedOpens += n;
      else {
        c.opens += n;
        c.firstOpenedAt = iso(Number(r.first));
        c.lastOpenedAt = iso(Number(r.last));
      }
    } else if (r.flagged) c.flaggedClicks += n;
    else c.clicks += n;
  }
  return out;
}

/** What personal email reads of its outbox entries' metadata (`outbox.meta`). */
export const personalOutboxMeta = json.object(
  {
    recipients: json.object({ to: json.stringArray, cc: json.stringArray, bcc: json.stringArray }, ['to', 'cc', 'bcc']),
    sendLimit: json.object({ resetsAt: json.string }, ['resetsAt']),
  },
  ['recipients', 'sendLimit'],
);

/** The API shape of an email sent (or scheduled) from the CRM. Only ever shown to its sender. */
export async function personalEmailViews(db: Executor, rows: readonly PersonalEmailsTable[]) {
  if (!rows.length) return [];
  const outbox = await db
    .selectFrom('outbox')
    .select(['id', 'state', 'send_at', 'sent_at', 'last_error', 'envelope', 'meta'])
    .where('id', 'in', rows.map((r) => r.outbox_id))
    .execute();
  const byOutbox = new Map(outbox.map((o) => [o.id, o]));
  const counts = await trackingCounts(
    db,
    rows.map((r) => r.id),
  );
  const connections = await db.selectFrom('connections').select(['id', 'address']).where('id', 'in', [...new Set(rows.map((r) => r.connection_id))]).execute();
  const address = new Map(connections.map((c) => [c.id, c.address]));
  return rows.map((r) => {
    const o = byOutbox.get(r.outbox_id);
    const meta = o ? readJson('outbox.meta', o.meta, personalOutboxMeta, {}) : {};
    return {
      id: r.id,
      contactId: r.contact_id,
      companyId: r.company_id,
      conversationId: r.conversation_id,
      from: address.get(r.connection_id) ?? null,
      fromConnectionId: r.connection_id,
      to: meta.recipients?.to ?? [],
      cc: meta.recipients?.cc ?? [],
      bcc: meta.recipients?.bcc ?? [],
      subject: r.subject,
      state: (o?.state ?? 'unknown') as string,
      sendAt: iso(o?.send_at),
      sentAt: iso(o?.sent_at),
      error: o?.last_error ?? null,
      sendLimitResetsAt: meta.sendLimit?.resetsAt ?? null,
      logged: r.logged === 1,
      loggedContactIds: readJson('personal_emails.log_contact_ids', r.log_contact_ids, json.stringArray, []),
      tracking: { opensTracked: r.track_opens === 1, clicksTracked: r.track_clicks === 1, links: r.link_count, ...counts.get(r.id)! },
      replacedBy: r.replaced_by,
      createdAt: iso(r.created_at)!,
    };
  });
}
export type PersonalEmailView = Awaited<ReturnType<typeof personalEmailViews>>[number];

export function contactName(c: { first_name: string; last_name: string }, email: string | null): string {
  return contactDisplayName({ firstName: c.first_name, lastName: c.last_name, primaryEmail: email });
}

/** A tracked link's destination and email (by link id), or undefined. */
export async function trackingLink(db: Executor, id: string): Promise<{ url: string; personal_email_id: string } | undefined> {
  return db.selectFrom('tracking_links').select(['url', 'personal_email_id']).where('id', '=', id).executeTakeFirst();
}
