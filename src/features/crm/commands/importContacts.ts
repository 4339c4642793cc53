import fs from 'node:fs/promises';
import {
  foldText,
  matchCompanyByDomain,
  companySearchText,
  prepareImport,
  type ImportField,
  type ImportRow,
  type ImportRowError,
} from '../domain/contacts.js';
import { AppError } from '../../../platform/errors.js';
import { limitsFor, planAllowing, PLAN_LIMITS } from '../../accounts/index.js';
import { isUniqueViolation } from '../../../platform/database/database.js';
import { newId } from '../../../platform/database/ids.js';
import { appendTimelineEvents } from './appendTimelineEvent.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { chunks, companiesByDomain, contactDerived, emailsOf, refreshContactSearch } from '../queries.js';
import { crmPolicies } from '../policies.js';
import { authorize } from '../../../platform/authorize.js';

export interface ImportContactsInput {
  /** The file's text (UTF-8; a BOM is fine). Comma, semicolon or tab separated, with a header line. */
  csv: string;
  /** Check the file and report what would happen, without changing anything. */
  dryRun?: boolean;
}

export interface ImportSummary {
  /** New contacts. */
  created: number;
  /** Existing contacts (same email) whose empty fields were filled or that got new emails. */
  updated: number;
  /** Existing contacts the row had nothing new for. */
  skipped: number;
  /** Rows not imported; each has at least one entry in `errors`. */
  failed: number;
}

export interface ImportReport {
  importId: string;
  dryRun: boolean;
  /** Data rows in the file (blank lines not counted). */
  totalRows: number;
  /** The header each recognised field was read from. */
  columns: Partial<Record<ImportField, string>>;
  /** Header cells that were not used. */
  ignoredColumns: string[];
  summary: ImportSummary;
  companiesCreated: number;
  /** Per-row problems, by row (`row` is the file's line number; the header is line 1). */
  errors: ImportRowError[];
}

/** Rows written per transaction. */
export const IMPORT_BATCH_SIZE = 500;
const RETRIES = 3;

interface RowPlan extends ImportRow {
  ownerId: string | null;
}

interface BatchOutcome {
  created: number;
  updated: number;
  skipped: number;
  failed: number;
  errors: ImportRowError[];
  newCompanies: Map<string, { id: string; name: string }>;
}

/**
 * Imports contacts from a CSV file (see `prepareImport` for the columns it understands). Rules:
 * - an email that already belongs to a contact updates that contact: empty first/last name, no company and
 *   no owner are filled from the row, and the row's other emails are added; nothing is ever overwritten.
 *   Rows with nothing new count as `skipped`. Importing the same file twice is therefore harmless;
 * - a row whose emails belong to two different contacts fails (`contact_email_taken`);
 * - the company column names a company of the account (case and accents ignored); a missing one is
 *   created. Without a company, contacts are linked by email domain as usual;
 * - the owner column must be the email of an active user of the account (`unknown_owner`,
 *   `owner_not_active`); without it, new contacts are owned by the importing user;
 * - at most the plan's `contactImportRows` rows per file.
 * Rows are written in batches of 500, each in its own transaction; the import has ONE audit event,
 * written with the first batch and brought up to date in the same transaction as every later batch, so
 * it always matches what is committed. A failure part-way leaves the batches already committed; running
 * the same file again completes it. A dry run reads the same data and writes nothing.
 */
export async function importContacts(env: CommandEnv, actor: Actor, input: ImportContactsInput, opts: { batchSize?: number } = {}): Promise<ImportReport> {
  authorize(actor, crmPolicies.write);
  const plan = actor.plan;
  const limits = limitsFor(plan);
  const prepared = prepareImport(input.csv ?? '', { maxRows: limits.contactImportRows });
  if (!prepared.ok) {
    if (prepared.code === 'too_many_rows') {
      const upgrade = planAllowing(plan, 'contactImportRows', prepared.rows);
      throw new AppError(
        'plan_limit_reached',
        409,
        `The file has ${prepared.rows} rows; the ${limits.name} plan imports at most ${prepared.max} contacts per file. Split the file into smaller ones${upgrade ? `, or upgrade to the ${PLAN_LIMITS[upgrade].name} plan` : ''}.`,
        { limit: { name: 'contactImportRows', max: prepared.max, plan }, rows: prepared.rows },
      );
    }
    throw new AppError(prepared.code, 400, prepared.message);
  }
  const file = prepared.value;
  const dryRun = input.dryRun === true;
  const importId = newId('imp');
  const errors: ImportRowError[] = [...file.errors];
  let failed = file.failedRows;

  // Owners, once for the whole file.
  const ownerKeys = [...new Set(file.rows.flatMap((r) => (r.ownerEmailKey ? [r.ownerEmailKey] : [])))];
  const owners = new Map<string, { id: string; state: string; name: string }>();
  for (const part of chunks(ownerKeys)) {
    const rows = await env.db.selectFrom('users').select(['id', 'email_key', 'state', 'name']).where('account_id', '=', actor.accountId).where('email_key', 'in', part).execute();
    for (const u of rows) owners.set(u.email_key, u);
  }
  const plans: RowPlan[] = [];
  for (const r of file.rows) {
    if (!r.ownerEmailKey) {
      plans.push({ ...r, ownerId: null });
      continue;
    }
    const u = owners.get(r.ownerEmailKey);
    if (!u || u.state === 'removed') {
      errors.push({ row: r.row, field: 'ownerEmail', code: 'unknown_owner', message: `No user of this account has the email ${r.ownerEmail}. Use the email of an active user, or leave the owner empty.` });
      failed += 1;
    } else if (u.state !== 'active') {
      errors.push({ row: r.row, field: 'ownerEmail', code: 'owner_not_active', message: `${u.name} (${r.ownerEmail}) is ${u.state} and cannot own contacts. Use the email of an active user.` });
      failed += 1;
    } else plans.push({ ...r, ownerId: u.id });
  }

  const totals = { created: 0, updated: 0, skipped: 0, failed, companiesCreated: 0 };
  const companies = new Map<string, { id: string; name: string }>();
  const batches = chunks(plans, opts.batchSize ?? IMPORT_BATCH_SIZE);
  const auditData = (complete: boolean, t: typeof totals) => ({ importId, rows: file.totalRows, ...t, batches: batches.length, complete });
  const ctx = { env, actor, companies };

  for (const [i, batch] of batches.entries()) {
    let outcome: BatchOutcome | undefined;
    if (dryRun) outcome = await applyBatch(env.db, batch, ctx, false);
    else {
      for (let attempt = 1; ; attempt += 1) {
        try {
          outcome = await env.db.transaction().execute(async (trx) => {
            const o = await applyBatch(trx, batch, ctx, true);
            const after = addOutcome(totals, o);
            if (i === 0) {
              await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'contacts.imported', targetType: 'contact_import', targetId: importId, data: auditData(i === batches.length - 1, after), at: env.now() });
            } else {
              await trx
                .updateTable('audit_events')
                .set({ data: JSON.stringify(auditData(i === batches.length - 1, after)) })
                .where('account_id', '=', actor.accountId)
                .where('target_type', '=', 'contact_import')
                .where('target_id', '=', importId)
                .execute();
            }
            return o;
          });
          break;
        } catch (err) {
          // Someone else added one of these emails meanwhile: plan the batch again against what is committed.
          if (isUniqueViolation(err) && attempt < RETRIES) continue;
          throw err;
        }
      }
    }
    Object.assign(totals, addOutcome(totals, outcome));
    for (const [k, c] of outcome.newCompanies) companies.set(k, c);
    errors.push(...outcome.errors);
  }
  if (!dryRun && !batches.length) {
    // Nothing importable: still record that the import ran.
    await env.db.transaction().execute(async (trx) => {
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'contacts.imported', targetType: 'contact_import', targetId: importId, data: auditData(true, totals), at: env.now() });
    });
  }

  const columns: Partial<Record<ImportField, string>> = {};
  const header = file.columns.columns;
  for (const f of Object.keys(header) as ImportField[]) columns[f] = file.headerCells[header[f]!]!.trim().replace(/^\uFEFF/, '');
  errors.sort((a, b) => a.row - b.row);
  return {
    importId,
    dryRun,
    totalRows: file.totalRows,
    columns,
    ignoredColumns: file.columns.ignored,
    summary: { created: totals.created, updated: totals.updated, skipped: totals.skipped, failed: totals.failed },
    companiesCreated: totals.companiesCreated,
    errors,
  };
}

function addOutcome(t: { created: number; updated: number; skipped: number; failed: number; companiesCreated: number }, o: BatchOutcome) {
  return {
    created: t.created + o.created,
    updated: t.updated + o.updated,
    skipped: t.skipped + o.skipped,
    failed: t.failed + o.failed,
    companiesCreated: t.companiesCreated + o.newCompanies.size,
  };
}

/** Plans one batch against the database and, when `write`, applies it. Pure with respect to `ctx`. */
async function applyBatch(
  db: Executor,
  rows: readonly RowPlan[],
  ctx: { env: CommandEnv; actor: Actor; companies: ReadonlyMap<string, { id: string; name: string }> },
  write: boolean,
): Promise<BatchOutcome> {
  const { actor, env } = ctx;
  const accountId = actor.accountId;
  const now = env.now();
  const out: BatchOutcome = { created: 0, updated: 0, skipped: 0, failed: 0, errors: [], newCompanies: new Map() };
  const keysOf = (r: RowPlan) => [r.emailKey, ...r.otherEmails.map((o) => o.key)];
  const allKeys = rows.flatMap(keysOf);

  // Which of the emails already belong to contacts.
  const holder = new Map<string, string>();
  for (const part of chunks(allKeys)) {
    const found = await db.selectFrom('contact_emails').select(['email_key', 'contact_id']).where('account_id', '=', accountId).where('email_key', 'in', part).execute();
    for (const f of found) holder.set(f.email_key, f.contact_id);
  }
  const existingIds = [...new Set(holder.values())];
  const existing = new Map<string, { first_name: string; last_name: string; owner_id: string | null; company_id: string | null }>();
  for (const part of chunks(existingIds)) {
    const found = await db.selectFrom('contacts').select(['id', 'first_name', 'last_name', 'owner_id', 'company_id']).where('account_id', '=', accountId).where('id', 'in', part).execute();
    for (const c of found) existing.set(c.id, c);
  }
  const existingEmails = await emailsOf(db, accountId, existingIds);

  // Companies named in the file: the oldest company with that (folded) name, else a new one.
  const companyByKey = new Map(ctx.companies);
  const wantedKeys = [...new Set(rows.flatMap((r) => (r.companyName ? [foldText(r.companyName)] : [])))].filter((k) => !companyByKey.has(k));
  for (const part of chunks(wantedKeys)) {
    const found = await db.selectFrom('companies').select(['id', 'name', 'name_key']).where('account_id', '=', accountId).where('name_key', 'in', part).orderBy('created_at').orderBy('id').execute();
    for (const c of found) if (!companyByKey.has(c.name_key)) companyByKey.set(c.name_key, { id: c.id, name: c.name });
  }
  const companyOf = (name: string) => {
    const key = foldText(name);
    let c = companyByKey.get(key);
    if (!c) {
      c = { id: newId('cmp'), name };
      companyByKey.set(key, c);
      out.newCompanies.set(key, c);
    }
    return c;
  };
  const byDomain = await companiesByDomain(db, accountId, allKeys);
  const domainCompanyIds = [...new Set(byDomain.values())];
  const companyNames = new Map<string, string>();
  for (const c of companyByKey.values()) companyNames.set(c.id, c.name);
  for (const part of chunks(domainCompanyIds.filter((id) => !companyNames.has(id)))) {
    for (const c of await db.selectFrom('companies').select(['id', 'name']).where('id', 'in', part).execute()) companyNames.set(c.id, c.name);
  }

  const newContacts: Array<{ id: string; row: RowPlan; companyId: string | null }> = [];
  const updates: Array<{ id: string; patch: Record<string, unknown>; addEmails: Array<{ email: string; key: string }> }> = [];
  for (const r of rows) {
    const keys = keysOf(r);
    const ids = [...new Set(keys.flatMap((k) => (holder.has(k) ? [holder.get(k)!] : [])))];
    if (ids.length > 1) {
      const a = keys.find((k) => holder.get(k) === ids[0])!;
      const b = keys.find((k) => holder.get(k) === ids[1])!;
      out.errors.push({
        row: r.row,
        field: 'otherEmails',
        code: 'contact_email_taken',
        message: `${a} and ${b} belong to two different contacts; one row can only create or update one contact. Split the row, or merge the contacts first.`,
      });
      out.failed += 1;
      continue;
    }
    const named = r.companyName ? companyOf(r.companyName) : null;
    if (!ids.length) {
      newContacts.push({ id: newId('con'), row: r, companyId: named?.id ?? matchCompanyByDomain(keys, byDomain) });
      continue;
    }
    const id = ids[0]!;
    const c = existing.get(id)!;
    const patch: Record<string, unknown> = {};
    if (!c.first_name && r.firstName) patch.first_name = r.firstName;
    if (!c.last_name && r.lastName) patch.last_name = r.lastName;
    if (!c.owner_id && r.ownerId) patch.owner_id = r.ownerId;
    if (!c.company_id) {
      const companyId = named?.id ?? matchCompanyByDomain([...(existingEmails.get(id) ?? []).map((e) => e.email_key), ...keys], byDomain);
      if (companyId) patch.company_id = companyId;
    }
    const all = [{ email: r.email, key: r.emailKey }, ...r.otherEmails];
    const addEmails = all.filter((e) => !holder.has(e.key));
    if (Object.keys(patch).length || addEmails.length) {
      updates.push({ id, patch, addEmails });
      out.updated += 1;
    } else out.skipped += 1;
  }
  out.created = newContacts.length;
  // Only companies some contact ends up in are created.
  const usedCompanyIds = new Set([...newContacts.map((n) => n.companyId), ...updates.map((u) => u.patch.company_id as string | undefined)]);
  for (const [key, c] of out.newCompanies) if (!usedCompanyIds.has(c.id)) out.newCompanies.delete(key);
  if (!write) return out;

  for (const [key, c] of out.newCompanies) {
    await db.insertInto('companies').values({ id: c.id, account_id: accountId, name: c.name, created_at: now, updated_at: now, name_key: key, search_text: companySearchText({ name: c.name, domains: [] }) }).execute();
  }
  for (const part of chunks(newContacts, 200)) {
    await db
      .insertInto('contacts')
      .values(
        part.map(({ id, row, companyId }) => ({
          id,
          account_id: accountId,
          first_name: row.firstName,
          last_name: row.lastName,
          owner_id: row.ownerId ?? actor.user.id,
          company_id: companyId,
          source: 'import',
          created_at: now,
          updated_at: now,
          ...contactDerived({ firstName: row.firstName, lastName: row.lastName, emails: [{ email: row.email, key: row.emailKey }, ...row.otherEmails], companyName: companyId ? (companyNames.get(companyId) ?? null) : null }),
        })),
      )
      .execute();
    const emailRows = part.flatMap(({ id, row }) =>
      [{ email: row.email, key: row.emailKey }, ...row.otherEmails].map((e, i) => ({ account_id: accountId, email_key: e.key, email: e.email, contact_id: id, is_primary: i === 0 ? 1 : 0, bounced_at: null, bounce_reason: null })),
    );
    for (const emailPart of chunks(emailRows, 200)) await db.insertInto('contact_emails').values(emailPart).execute();
  }
  await appendTimelineEvents(
    db,
    accountId,
    newContacts.map(({ id }) => ({ contactId: id, kind: 'contact_created' as const, occurredAt: now, actorUserId: actor.user.id, refType: 'contact', refId: id, data: { source: 'import' } })),
  );
  for (const u of updates) {
    await db.updateTable('contacts').set({ ...u.patch, updated_at: now }).where('account_id', '=', accountId).where('id', '=', u.id).execute();
    if (u.addEmails.length) {
      await db.insertInto('contact_emails').values(u.addEmails.map((e) => ({ account_id: accountId, email_key: e.key, email: e.email, contact_id: u.id, is_primary: 0, bounced_at: null, bounce_reason: null }))).execute();
    }
  }
  await refreshContactSearch(db, accountId, updates.map((u) => u.id));
  return out;
}

/** Imports a CSV file from disk (for the CLI and scripts). */
export async function importContactsFromFile(env: CommandEnv, actor: Actor, filePath: string, opts: { dryRun?: boolean } = {}): Promise<ImportReport> {
  const csv = await fs.readFile(filePath, 'utf8');
  return importContacts(env, actor, { csv, dryRun: opts.dryRun });
}

/** A plain-text report for terminals: the summary, then one line per problem. */
export function formatImportReport(r: ImportReport): string {
  const s = r.summary;
  const lines = [
    `${r.dryRun ? 'Dry run (nothing was changed): ' : ''}${r.totalRows} rows: ${s.created} created, ${s.updated} updated, ${s.skipped} skipped, ${s.failed} failed${r.companiesCreated ? `; ${r.companiesCreated} companies created` : ''}.`,
    `Columns: ${Object.entries(r.columns).map(([f, h]) => `${f} ← "${h}"`).join(', ')}${r.ignoredColumns.length ? `; ignored: ${r.ignoredColumns.map((c) => `"${c}"`).join(', ')}` : ''}.`,
    ...r.errors.map((e) => `row ${e.row}, ${e.field}: ${e.message} [${e.code}]`),
  ];
  return lines.join('\n');
}
