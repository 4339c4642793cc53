import { parse } from 'csv-parse/sync';
import { addressKey } from '../../connections/domain/address-key.js';

/**
 * The CRM's pure rules: names, search text, company-by-domain matching, timeline kinds, list cursors and
 * the reading of contact import files. No I/O: commands load the facts and pass them in.
 *
 * Decisions made here (the rest of the CRM follows them):
 * - An email belongs to at most one contact per account; contacts are found by `addressKey(x).key`.
 * - A contact is linked to a company automatically when one of its emails (primary first) is at a domain
 *   of that company or a subdomain of it (`ann@eu.acme.com` → the company with `acme.com`), unless the
 *   domain is a free mail provider (gmail.com, outlook.com, yahoo.*...): those say nothing about where a
 *   person works. Companies cannot claim free mail domains.
 * - Search is by substrings: every word of the query must appear somewhere in the contact's names,
 *   emails or company name, ignoring case and accents (`jose` finds `José`).
 */

// ---------------------------------------------------------------------------------------------------
// Timeline

/**
 * What a timeline event records. Other features append these (through `appendTimelineEvent`):
 * - `email_sent` / `email_received`: a message to or from one of the contact's emails
 *   (ref: the message); `auto_reply_received`: an out-of-office or other automatic reply;
 * - `email_opened` / `email_clicked`: tracking of a sent message (ref: the tracking hit);
 * - `email_bounced`: a sent message bounced (ref: the bounce message); `send_failed`: Mailroom could not
 *   send (ref: the outgoing message);
 * - `meeting`: a meeting booked or held; `note`: a note a user wrote;
 * - `contact_created`: the contact was created (by hand, import, or a mail feature).
 */
export const TIMELINE_KINDS = [
  'email_sent',
  'email_received',
  'email_opened',
  'email_clicked',
  'email_bounced',
  'auto_reply_received',
  'meeting',
  'note',
  'contact_created',
  'send_failed',
] as const;
export type TimelineKind = (typeof TIMELINE_KINDS)[number];
export const isTimelineKind = (x: unknown): x is TimelineKind => typeof x === 'string' && (TIMELINE_KINDS as readonly string[]).includes(x);

// ---------------------------------------------------------------------------------------------------
// Limits of one contact or company (input sanity, not plan quotas).

export const MAX_NAME_LENGTH = 200;
export const MAX_COMPANY_NAME_LENGTH = 200;
export const MAX_EMAILS_PER_CONTACT = 20;
export const MAX_DOMAINS_PER_COMPANY = 50;
export const MAX_NOTE_LENGTH = 10_000;

// ---------------------------------------------------------------------------------------------------
// Text folding, search and sorting

const SPECIAL_LETTERS: Record<string, string> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i' };

/** Lower case, accents removed, whitespace collapsed: the form search and sorting compare. */
export function foldText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[ßæøœłđðþı]/g, (c) => SPECIAL_LETTERS[c] ?? c)
    .replace(/\s+/g, ' ')
    .trim();
}

export const MAX_SEARCH_TOKENS = 8;
const MAX_TOKEN_LENGTH = 100;

/**
 * The words of a search query, folded. Punctuation around a word is dropped (`"Lee,"` → `lee`) but kept
 * inside it (`ann@acme.com`, `o'brien`). Words contained in another word of the query are dropped (they
 * would match anyway); at most 8 words count.
 */
export function searchTokens(q: string): string[] {
  const words = foldText(q ?? '')
    .split(' ')
    .map((w) => w.replace(/^[^\p{L}\p{N}]+|[^\p{L}\p{N}]+$/gu, '').slice(0, MAX_TOKEN_LENGTH))
    .filter((w) => w !== '');
  const unique = [...new Set(words)];
  return unique.filter((w) => !unique.some((o) => o !== w && o.includes(w))).slice(0, MAX_SEARCH_TOKENS);
}

/** An FTS5 query matching text that contains every token (each a quoted phrase: a trigram substring match). */
export function fts5Phrases(tokens: readonly string[]): string {
  return tokens.map((t) => `"${t.replace(/"/g, '""')}"`).join(' AND ');
}

/** A LIKE pattern matching values that contain `token` (`%`, `_` and `\` escaped with `\`). */
export function likeContains(token: string): string {
  return `%${token.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** The folded text a contact is searched by: names, every email (as typed and as key), company name. */
export function contactSearchText(c: { firstName: string; lastName: string; emails: ReadonlyArray<{ email: string; key: string }>; companyName?: string | null }): string {
  const parts = [c.firstName, c.lastName];
  for (const e of c.emails) {
    parts.push(e.email);
    if (foldText(e.email) !== e.key) parts.push(e.key);
  }
  if (c.companyName) parts.push(c.companyName);
  return foldText(parts.join(' '));
}

/** The folded text a company is searched by: its name and domains. */
export function companySearchText(c: { name: string; domains: readonly string[] }): string {
  return foldText([c.name, ...c.domains].join(' '));
}

/** Contacts sort by last name, then first name; contacts without a name by their primary email. */
export function contactSortName(c: { firstName: string; lastName: string; primaryEmail?: string | null }): string {
  return foldText(`${c.lastName} ${c.firstName}`) || foldText(c.primaryEmail ?? '');
}

/** How a contact is shown: "First Last", or the primary email, or "(no name)". */
export function contactDisplayName(c: { firstName: string; lastName: string; primaryEmail?: string | null }): string {
  return `${c.firstName} ${c.lastName}`.trim() || c.primaryEmail || '(no name)';
}

// ---------------------------------------------------------------------------------------------------
// Names

const TITLES = new Set(['mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'prof', 'sir', 'dame', 'herr', 'frau', 'mme', 'mlle', 'm']);
const SUFFIXES = new Set(['jr', 'sr', 'ii', 'iii', 'iv', 'v', 'phd', 'md', 'mba', 'esq', 'dds', 'cpa']);
const PARTICLES = new Set(['van', 'von', 'de', 'der', 'den', 'del', 'della', 'di', 'da', 'dos', 'das', 'du', 'la', 'le', 'ter', 'ten', 'bin', 'binti', 'al', 'el', 'st', 'mac']);
const bare = (w: string) => foldText(w).replace(/[.,]/g, '');

/**
 * Splits a full name into first and last name:
 * `Ann Lee` → Ann / Lee; `Mary Ann Lee` → Mary Ann / Lee; `Lee, Ann` → Ann / Lee;
 * `Ludwig van Beethoven` → Ludwig / van Beethoven; `Martin Luther King Jr.` → Martin Luther / King Jr.;
 * `Dr. Ann Lee` → Ann / Lee (a leading title is dropped); `Cher` → Cher / (empty).
 * A value that contains `@` is an email, not a name: both parts come back empty.
 */
export function splitName(full: string): { firstName: string; lastName: string } {
  const s = (full ?? '').normalize('NFC').replace(/\s+/g, ' ').trim();
  const none = { firstName: '', lastName: '' };
  if (!s || s.includes('@')) return none;
  const commaParts = s.split(',').map((p) => p.trim());
  if (commaParts.length === 2 && commaParts[0] && commaParts[1] && !commaParts[1].split(' ').every((w) => SUFFIXES.has(bare(w)))) {
    return { firstName: commaParts[1], lastName: commaParts[0] };
  }
  let words = s.replace(/,/g, ' ').split(' ').filter(Boolean);
  while (words.length > 1 && TITLES.has(bare(words[0]!))) words = words.slice(1);
  if (words.length === 1) return { firstName: words[0]!, lastName: '' };
  let end = words.length;
  while (end > 1 && SUFFIXES.has(bare(words[end - 1]!))) end -= 1;
  if (end === 1) return { firstName: words[0]!, lastName: words.slice(1).join(' ') };
  let lastStart = end - 1;
  for (let i = 1; i < end - 1; i += 1) {
    if (PARTICLES.has(bare(words[i]!))) {
      lastStart = i;
      break;
    }
  }
  return { firstName: words.slice(0, lastStart).join(' '), lastName: words.slice(lastStart).join(' ') };
}

// ---------------------------------------------------------------------------------------------------
// Domains and companies

/**
 * Domains of free mail providers: an address there says nothing about the person's company. Exact
 * domains, plus every country variant of the big brands (`yahoo.co.jp`, `hotmail.fr`, `gmx.at`).
 */
const FREEMAIL_DOMAINS = new Set([
  'gmail.com', 'googlemail.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'passport.com',
  'yahoo.com', 'ymail.com', 'rocketmail.com', 'aol.com', 'aim.com', 'icloud.com', 'me.com', 'mac.com',
  'proton.me', 'protonmail.com', 'protonmail.ch', 'pm.me', 'tutanota.com', 'tutanota.de', 'tuta.io',
  'mail.com', 'email.com', 'usa.com', 'zoho.com', 'zohomail.com', 'fastmail.com', 'fastmail.fm', 'hey.com',
  'yandex.com', 'yandex.ru', 'ya.ru', 'mail.ru', 'bk.ru', 'inbox.ru', 'list.ru', 'rambler.ru',
  'web.de', 'freenet.de', 't-online.de', 'posteo.de', 'mailbox.org',
  'orange.fr', 'wanadoo.fr', 'free.fr', 'laposte.net', 'sfr.fr', 'neuf.fr',
  'libero.it', 'virgilio.it', 'tiscali.it', 'alice.it',
  'seznam.cz', 'wp.pl', 'o2.pl', 'onet.pl', 'interia.pl',
  'btinternet.com', 'sky.com', 'virginmedia.com', 'ntlworld.com', 'talktalk.net',
  'comcast.net', 'att.net', 'sbcglobal.net', 'verizon.net', 'cox.net', 'charter.net', 'earthlink.net', 'juno.com',
  'shaw.ca', 'rogers.com', 'sympatico.ca', 'bigpond.com', 'optusnet.com.au',
  'qq.com', '163.com', '126.com', 'sina.com', 'sohu.com', 'yeah.net', 'naver.com', 'hanmail.net', 'daum.net',
  'rediffmail.com', 'uol.com.br', 'bol.com.br', 'terra.com.br', 'gmx.com', 'gmx.net',
]);
/** Brands with a free mail domain in many countries: `brand.tld`, `brand.co.tld`, `brand.com.tld`. */
const FREEMAIL_BRANDS = new Set(['gmail', 'googlemail', 'hotmail', 'outlook', 'live', 'yahoo', 'ymail', 'aol', 'gmx', 'yandex', 'icloud']);

/** True for free mail domains (gmail.com, outlook.com, yahoo.co.uk...); never for their subdomains' companies. */
export function isFreemailDomain(domain: string): boolean {
  const d = domain.toLowerCase().replace(/\.$/, '');
  if (FREEMAIL_DOMAINS.has(d)) return true;
  const labels = d.split('.');
  if (labels.length === 2) return FREEMAIL_BRANDS.has(labels[0]!);
  if (labels.length === 3 && ['co', 'com'].includes(labels[1]!) && labels[2]!.length === 2) return FREEMAIL_BRANDS.has(labels[0]!);
  return false;
}

/** The domain of an email key (`ann@acme.com` → `acme.com`). */
export function emailDomain(key: string): string {
  return key.slice(key.lastIndexOf('@') + 1);
}

/** A domain and its parents down to two labels, most specific first: `eu.acme.com` → [eu.acme.com, acme.com]. */
export function domainCandidates(domain: string): string[] {
  const labels = domain.split('.');
  const out: string[] = [];
  for (let i = 0; i <= labels.length - 2; i += 1) out.push(labels.slice(i).join('.'));
  return out;
}

/**
 * The company of a set of emails (primary first): the first email, not at a free mail provider, whose
 * domain or a parent domain belongs to a company. `companyByDomain` maps domains to company ids.
 */
export function matchCompanyByDomain(emailKeys: readonly string[], companyByDomain: ReadonlyMap<string, string>): string | null {
  for (const key of emailKeys) {
    const domain = emailDomain(key);
    if (isFreemailDomain(domain)) continue;
    for (const d of domainCandidates(domain)) {
      const id = companyByDomain.get(d);
      if (id) return id;
    }
  }
  return null;
}

export type DomainResult = { ok: true; domain: string } | { ok: false; message: string };

/**
 * A company domain as people paste it, made comparable: `https://www.Acme.com/about` → `acme.com`,
 * `@acme.com` → `acme.com`, `Bücher.example` → `xn--bcher-kva.example`. Scheme, path, port, a leading
 * `www.` and a trailing dot are removed; the rest must be a valid mail domain (as in addresses).
 */
export function normaliseDomain(input: string): DomainResult {
  let s = (input ?? '').trim().toLowerCase();
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//, '');
  s = s.replace(/[/?#].*$/, '');
  s = s.replace(/:\d+$/, '');
  s = s.replace(/^@/, '').replace(/\.$/, '');
  if (s.startsWith('www.') && s.split('.').length > 2) s = s.slice(4);
  if (!s) return { ok: false, message: 'Enter a domain, like acme.com.' };
  const r = addressKey(`x@${s}`);
  if (!r.ok) return { ok: false, message: `"${input.trim()}" is not a valid domain. Enter a domain like acme.com.` };
  return { ok: true, domain: emailDomain(r.key) };
}

// ---------------------------------------------------------------------------------------------------
// List cursors (opaque to clients)

/** An opaque cursor for keyset pagination: the sort values of the last item of a page. */
export function encodeCursor(values: ReadonlyArray<string | number>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

/** The values of a cursor made by `encodeCursor` with the given shape, or null when it is not one. */
export function decodeCursor<T extends ReadonlyArray<'string' | 'number'>>(cursor: string, shape: T): { [K in keyof T]: T[K] extends 'string' ? string : number } | null {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (!Array.isArray(v) || v.length !== shape.length) return null;
    if (!v.every((x, i) => typeof x === shape[i] && (typeof x !== 'number' || Number.isFinite(x)))) return null;
    return v as never;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------------------------------------------
// Contact import files

/** Columns an import file may have. */
export type ImportField = 'email' | 'otherEmails' | 'firstName' | 'lastName' | 'name' | 'company' | 'ownerEmail';

/** Header names recognised per field, compared case-insensitively without spaces or punctuation. */
export const IMPORT_HEADER_ALIASES: Readonly<Record<ImportField, readonly string[]>> = {
  email: ['email', 'emailaddress', 'mail', 'primaryemail', 'workemail', 'businessemail', 'emailaddress1', 'email1', 'courriel'],
  otherEmails: ['otheremails', 'otheremail', 'additionalemails', 'additionalemail', 'secondaryemail', 'secondaryemails', 'alternateemail', 'email2', 'emailaddress2', 'emails'],
  firstName: ['firstname', 'first', 'givenname', 'forename', 'prenom', 'vorname'],
  lastName: ['lastname', 'last', 'surname', 'familyname', 'nachname'],
  name: ['name', 'fullname', 'contactname', 'contact', 'displayname', 'nom'],
  company: ['company', 'companyname', 'organization', 'organisation', 'organizationname', 'organisationname', 'org', 'account', 'accountname', 'employer', 'firma', 'entreprise'],
  ownerEmail: ['owneremail', 'owner', 'owneremailaddress', 'contactowner', 'contactowneremail', 'assignedto', 'salesowner'],
};

const squashHeader = (h: string) => foldText(h.replace(/^\uFEFF/, '')).replace(/[^a-z0-9]/g, '');

export interface ImportColumns {
  /** Column index (0-based) of each recognised field. */
  columns: Partial<Record<ImportField, number>>;
  /** Header cells that were not recognised (or repeat a field already found), as written. */
  ignored: string[];
}

/** Recognises the columns of an import file from its header line; refuses a header with no email column. */
export function mapImportHeader(cells: readonly string[]): { ok: true; value: ImportColumns } | { ok: false; message: string } {
  const columns: Partial<Record<ImportField, number>> = {};
  const ignored: string[] = [];
  cells.forEach((cell, i) => {
    const squashed = squashHeader(cell);
    const field = (Object.keys(IMPORT_HEADER_ALIASES) as ImportField[]).find((f) => IMPORT_HEADER_ALIASES[f].includes(squashed));
    if (field && columns[field] === undefined) columns[field] = i;
    else if (cell.trim()) ignored.push(cell.trim());
  });
  if (columns.email === undefined) {
    return {
      ok: false,
      message:
        'The first line of the file must name the columns, and one of them must be the email address. ' +
        'Recognised names: email, first name, last name, name, company, owner email (upper or lower case, with or without spaces). ' +
        `The first line has: ${cells.map((c) => `"${c.trim()}"`).join(', ') || '(nothing)'}.`,
    };
  }
  return { ok: true, value: { columns, ignored } };
}

/** One problem with one row of an import file. `row` is the file's line number where the row starts (the header is line 1). */
export interface ImportRowError {
  row: number;
  field: ImportField | 'row';
  code: string;
  message: string;
}

/** A valid row of an import file, normalised. */
export interface ImportRow {
  row: number;
  email: string;
  emailKey: string;
  otherEmails: Array<{ email: string; key: string }>;
  firstName: string;
  lastName: string;
  companyName: string;
  /** The owner's email as written and its key, when the row names an owner. */
  ownerEmail: string | null;
  ownerEmailKey: string | null;
}

const cellOf = (cells: readonly string[], i: number | undefined) => (i === undefined ? '' : (cells[i] ?? '').replace(/\s+/g, ' ').trim());

/** Validates and normalises one data row. Collects every problem of the row, not only the first. */
export function parseImportRow(cells: readonly string[], cols: ImportColumns, row: number): { ok: true; value: ImportRow } | { ok: false; errors: ImportRowError[] } {
  const c = cols.columns;
  const errors: ImportRowError[] = [];
  const rawEmail = cellOf(cells, c.email);
  let email = '';
  let emailKey = '';
  if (!rawEmail) {
    errors.push({ row, field: 'email', code: 'missing_email', message: 'This row has no email address. Every imported contact needs one.' });
  } else {
    const r = addressKey(rawEmail);
    if (r.ok) {
      email = r.display;
      emailKey = r.key;
    } else errors.push({ row, field: 'email', code: 'invalid_email', message: r.message });
  }
  const otherEmails: Array<{ email: string; key: string }> = [];
  for (const raw of cellOf(cells, c.otherEmails).split(/[;,\s]+/).filter(Boolean)) {
    const r = addressKey(raw);
    if (!r.ok) errors.push({ row, field: 'otherEmails', code: 'invalid_email', message: r.message });
    else if (r.key !== emailKey && !otherEmails.some((o) => o.key === r.key)) otherEmails.push({ email: r.display, key: r.key });
  }
  if (otherEmails.length + 1 > MAX_EMAILS_PER_CONTACT) {
    errors.push({ row, field: 'otherEmails', code: 'too_many_emails', message: `A contact can have at most ${MAX_EMAILS_PER_CONTACT} emails; this row has ${otherEmails.length + 1}.` });
  }
  let firstName = cellOf(cells, c.firstName);
  let lastName = cellOf(cells, c.lastName);
  if (!firstName && !lastName) ({ firstName, lastName } = splitName(cellOf(cells, c.name)));
  for (const [field, value] of [['firstName', firstName], ['lastName', lastName]] as const) {
    if (value.length > MAX_NAME_LENGTH) errors.push({ row, field, code: 'too_long', message: `The ${field === 'firstName' ? 'first' : 'last'} name is longer than ${MAX_NAME_LENGTH} characters.` });
  }
  const companyName = cellOf(cells, c.company);
  if (companyName.length > MAX_COMPANY_NAME_LENGTH) {
    errors.push({ row, field: 'company', code: 'too_long', message: `The company name is longer than ${MAX_COMPANY_NAME_LENGTH} characters.` });
  }
  const rawOwner = cellOf(cells, c.ownerEmail);
  let ownerEmailKey: string | null = null;
  if (rawOwner) {
    const r = addressKey(rawOwner);
    if (r.ok) ownerEmailKey = r.key;
    else errors.push({ row, field: 'ownerEmail', code: 'invalid_email', message: `Owner: ${r.message}` });
  }
  if (errors.length) return { ok: false, errors };
  return { ok: true, value: { row, email, emailKey, otherEmails, firstName, lastName, companyName, ownerEmail: rawOwner || null, ownerEmailKey } };
}

/** The delimiter of a CSV file, guessed from its first line: comma, semicolon (European Excel), tab or pipe. */
export function detectDelimiter(text: string): string {
  const counts = new Map<string, number>([[',', 0], [';', 0], ['\t', 0], ['|', 0]]);
  let quoted = false;
  for (const ch of text.replace(/^[\r\n]+/, '')) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === '\n' || ch === '\r')) break;
    else if (!quoted && counts.has(ch)) counts.set(ch, counts.get(ch)! + 1);
  }
  let best = ',';
  for (const [d, n] of counts) if (n > counts.get(best)!) best = d;
  return best;
}

export interface PreparedImport {
  columns: ImportColumns;
  /** The header line's cells, as written. */
  headerCells: string[];
  /** Data rows in the file (blank lines not counted). */
  totalRows: number;
  /** Valid rows, each email appearing once in the whole file. */
  rows: ImportRow[];
  /** Problems of the rows that cannot be imported, by row. */
  errors: ImportRowError[];
  /** Rows that failed (the rows named in `errors`). */
  failedRows: number;
}

export type PrepareImportFailure =
  | { ok: false; code: 'csv_invalid'; message: string }
  | { ok: false; code: 'csv_no_email_column'; message: string }
  | { ok: false; code: 'too_many_rows'; rows: number; max: number; message: string };

/**
 * Reads a whole import file: BOM, delimiter and header detection, per-row validation, and duplicates
 * within the file (the first row with an email wins; later rows with it fail with `duplicate_in_file`).
 * Stops early, without validating, when the file has more than `maxRows` data rows.
 */
export function prepareImport(csv: string, opts: { maxRows: number }): { ok: true; value: PreparedImport } | PrepareImportFailure {
  let records: Array<{ record: string[]; info: { bytes: number } }>;
  const text = csv.replace(/^\uFEFF/, '');
  try {
    records = parse(text, { bom: true, delimiter: detectDelimiter(text), relax_column_count: true, relax_quotes: true, skip_empty_lines: false, info: true }) as never;
  } catch (err) {
    const e = err as { message?: string; lines?: number };
    return { ok: false, code: 'csv_invalid', message: `The file could not be read as CSV${e.lines ? ` (near line ${e.lines})` : ''}: ${e.message ?? String(err)}. Save it again as CSV (UTF-8) and retry.` };
  }
  // The line where each record starts, counted from the byte offsets the parser reports (its own line
  // counter counts a CRLF inside a quoted field twice). CRLF, LF and a lone CR each end one line.
  const bytes = Buffer.from(text, 'utf8');
  const lines: Array<{ line: number; cells: string[] }> = [];
  let line = 1;
  let at = 0;
  for (const r of records) {
    lines.push({ line, cells: r.record });
    const end = Math.min(r.info.bytes, bytes.length);
    for (; at < end; at += 1) {
      const b = bytes[at];
      if (b === 0x0a || (b === 0x0d && bytes[at + 1] !== 0x0a)) line += 1;
    }
  }
  const isBlank = (cells: string[]) => cells.every((x) => x.trim() === '');
  const headerAt = lines.findIndex((l) => !isBlank(l.cells));
  if (headerAt < 0) return { ok: false, code: 'csv_no_email_column', message: 'The file is empty. Its first line must name the columns, e.g. email,first name,last name,company.' };
  const header = mapImportHeader(lines[headerAt]!.cells);
  if (!header.ok) return { ok: false, code: 'csv_no_email_column', message: header.message };
  const data = lines.slice(headerAt + 1).filter((l) => !isBlank(l.cells));
  if (data.length > opts.maxRows) {
    return { ok: false, code: 'too_many_rows', rows: data.length, max: opts.maxRows, message: `The file has ${data.length} rows; at most ${opts.maxRows} can be imported at once.` };
  }
  const rows: ImportRow[] = [];
  const errors: ImportRowError[] = [];
  const firstRowOf = new Map<string, number>();
  let failedRows = 0;
  for (const { line, cells } of data) {
    const r = parseImportRow(cells, header.value, line);
    if (!r.ok) {
      errors.push(...r.errors);
      failedRows += 1;
      continue;
    }
    const dupes = [r.value.emailKey, ...r.value.otherEmails.map((o) => o.key)].filter((k) => firstRowOf.has(k));
    if (dupes.length) {
      const k = dupes[0]!;
      errors.push({
        row: line,
        field: k === r.value.emailKey ? 'email' : 'otherEmails',
        code: 'duplicate_in_file',
        message: `${k} is also on row ${firstRowOf.get(k)}; only the first row with an email is imported. Merge the two rows and import again.`,
      });
      failedRows += 1;
      continue;
    }
    for (const k of [r.value.emailKey, ...r.value.otherEmails.map((o) => o.key)]) firstRowOf.set(k, line);
    rows.push(r.value);
  }
  return { ok: true, value: { columns: header.value, headerCells: lines[headerAt]!.cells, totalRows: data.length, rows, errors, failedRows } };
}

// ---------------------------------------------------------------------------------------------------
// A contact's time zone

export type TimeZoneResult = { ok: true; zone: string } | { ok: false; message: string };

/**
 * A contact's time zone as written, checked: an IANA name (`Asia/Kathmandu`, `America/New_York`, `UTC`)
 * the runtime's time-zone data knows, kept as written (trimmed). Offsets (`+05:45`) and abbreviations
 * (`EST`, `CET`... which Intl may accept but which do not say where DST applies) are refused.
 */
export function checkTimeZone(input: string): TimeZoneResult {
  const s = input.trim();
  const refuse = { ok: false, message: `"${s}" is not a time zone. Use an IANA name such as Europe/Paris or Asia/Kathmandu, or null for none.` } as const;
  if (!s || s.length > 64 || !/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(s)) return refuse;
  if (!s.includes('/') && !['UTC', 'GMT'].includes(s.toUpperCase())) return refuse;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: s });
    return { ok: true, zone: s };
  } catch {
    return refuse;
  }
}
