import { describe, expect, it } from 'vitest';
import {
  checkTimeZone,
  contactDisplayName,
  contactSearchText,
  contactSortName,
  decodeCursor,
  detectDelimiter,
  domainCandidates,
  encodeCursor,
  foldText,
  isFreemailDomain,
  isTimelineKind,
  likeContains,
  fts5Phrases,
  mapImportHeader,
  matchCompanyByDomain,
  normaliseDomain,
  parseImportRow,
  prepareImport,
  searchTokens,
  splitName,
} from './contacts.js';

describe('splitName', () => {
  it.each([
    ['Ann Lee', 'Ann', 'Lee'],
    ['  Ann   Lee  ', 'Ann', 'Lee'],
    ['Mary Ann Lee', 'Mary Ann', 'Lee'],
    ['Lee, Ann', 'Ann', 'Lee'],
    ['Lee, Mary Ann', 'Mary Ann', 'Lee'],
    ['Ludwig van Beethoven', 'Ludwig', 'van Beethoven'],
    ['Jean de la Fontaine', 'Jean', 'de la Fontaine'],
    ['Martin Luther King Jr.', 'Martin Luther', 'King Jr.'],
    ['Ann Lee, PhD', 'Ann', 'Lee PhD'],
    ['Dr. Ann Lee', 'Ann', 'Lee'],
    ['Dr Lee', 'Lee', ''],
    ['Cher', 'Cher', ''],
    ['Van Morrison', 'Van', 'Morrison'],
    ['José Ñúñez', 'José', 'Ñúñez'],
    ['ann@acme.com', '', ''],
    ['', '', ''],
    ['   ', '', ''],
  ])('%j → %j / %j', (full, first, last) => {
    expect(splitName(full)).toEqual({ firstName: first, lastName: last });
  });
});

describe('foldText and searchTokens', () => {
  it.each([
    ['José', 'jose'],
    ['  ÅNGSTRÖM  Straße ', 'angstrom strasse'],
    ['Søren Łukasz', 'soren lukasz'],
    ['ＡＣＭＥ', 'acme'],
  ])('foldText(%j) = %j', (input, out) => expect(foldText(input)).toBe(out));

  it.each([
    ['Ann Lee', ['ann', 'lee']],
    ['"Lee," Ann', ['lee', 'ann']],
    ['ann@acme.com', ['ann@acme.com']],
    ['an ann', ['ann']],
    ['José  JOSÉ', ['jose']],
    ['   ', []],
    ['%_', []],
    ['100%_done', ['100%_done']],
    ['a b c d e f g h i j', ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']],
  ])('searchTokens(%j) = %j', (q, tokens) => expect(searchTokens(q)).toEqual(tokens));

  it.each([
    ['ann', '%ann%'],
    ['100%', '%100\\%%'],
    ['a_b', '%a\\_b%'],
    ['c:\\x', '%c:\\\\x%'],
  ])('likeContains(%j) = %j', (t, p) => expect(likeContains(t)).toBe(p));

  it.each([
    [['ann'], '"ann"'],
    [['ann', 'lee@x.example'], '"ann" AND "lee@x.example"'],
    [['a"b"c'], '"a""b""c"'],
  ])('fts5Phrases(%j) = %j', (t, q) => expect(fts5Phrases(t)).toBe(q));

  it('builds search text from names, emails (typed and key) and company', () => {
    expect(contactSearchText({ firstName: 'José', lastName: 'Lee', emails: [{ email: 'Jose@Bücher.example', key: 'jose@xn--bcher-kva.example' }], companyName: 'Bücher GmbH' })).toBe(
      'jose lee jose@bucher.example jose@xn--bcher-kva.example bucher gmbh',
    );
    expect(contactSearchText({ firstName: '', lastName: '', emails: [{ email: 'ann@acme.com', key: 'ann@acme.com' }] })).toBe('ann@acme.com');
  });

  it.each([
    [{ firstName: 'Ann', lastName: 'Lee' }, 'lee ann'],
    [{ firstName: 'Ann', lastName: '' }, 'ann'],
    [{ firstName: '', lastName: '', primaryEmail: 'Z@x.com' }, 'z@x.com'],
    [{ firstName: '', lastName: '', primaryEmail: null }, ''],
  ])('contactSortName(%j) = %j', (c, s) => expect(contactSortName(c)).toBe(s));

  it.each([
    [{ firstName: 'Ann', lastName: 'Lee' }, 'Ann Lee'],
    [{ firstName: '', lastName: '', primaryEmail: 'ann@x.com' }, 'ann@x.com'],
    [{ firstName: '', lastName: '' }, '(no name)'],
  ])('contactDisplayName(%j) = %j', (c, s) => expect(contactDisplayName(c)).toBe(s));
});

describe('domains and company matching', () => {
  it.each([
    ['gmail.com', true],
    ['GMAIL.COM', true],
    ['outlook.com', true],
    ['yahoo.com', true],
    ['yahoo.co.uk', true],
    ['yahoo.co.jp', true],
    ['hotmail.fr', true],
    ['gmx.de', true],
    ['web.de', true],
    ['icloud.com', true],
    ['proton.me', true],
    ['acme.com', false],
    ['mail.acme.com', false],
    ['gmail.acme.com', false],
    ['live.example.com', false],
    ['google.com', false],
  ])('isFreemailDomain(%j) = %j', (d, r) => expect(isFreemailDomain(d)).toBe(r));

  it.each([
    ['acme.com', { ok: true, domain: 'acme.com' }],
    ['  ACME.com. ', { ok: true, domain: 'acme.com' }],
    ['https://www.acme.com/about?x=1', { ok: true, domain: 'acme.com' }],
    ['@acme.com', { ok: true, domain: 'acme.com' }],
    ['acme.com:8080', { ok: true, domain: 'acme.com' }],
    ['www.com', { ok: true, domain: 'www.com' }],
    ['eu.acme.com', { ok: true, domain: 'eu.acme.com' }],
    ['Bücher.example', { ok: true, domain: 'xn--bcher-kva.example' }],
    ['localhost', { ok: false }],
    ['acme', { ok: false }],
    ['', { ok: false }],
    ['acme..com', { ok: false }],
    ['192.168.0.1', { ok: false }],
    ['ac me.com', { ok: false }],
  ])('normaliseDomain(%j)', (input, expected) => {
    const r = normaliseDomain(input);
    expect(r.ok).toBe(expected.ok);
    if (expected.ok && r.ok) expect(r.domain).toBe((expected as { domain: string }).domain);
  });

  it('lists a domain and its parents', () => {
    expect(domainCandidates('a.eu.acme.com')).toEqual(['a.eu.acme.com', 'eu.acme.com', 'acme.com']);
    expect(domainCandidates('acme.com')).toEqual(['acme.com']);
  });

  const companies = new Map([
    ['acme.com', 'cmp_acme'],
    ['eu.acme.com', 'cmp_acme_eu'],
    ['globex.io', 'cmp_globex'],
  ]);
  it.each([
    [['ann@acme.com'], 'cmp_acme'],
    [['ann@sales.acme.com'], 'cmp_acme'],
    [['ann@x.eu.acme.com'], 'cmp_acme_eu'],
    [['ann@gmail.com', 'ann@globex.io'], 'cmp_globex'],
    [['ann@globex.io', 'ann@acme.com'], 'cmp_globex'],
    [['ann@gmail.com'], null],
    [['ann@notacme.com'], null],
    [[], null],
  ])('matchCompanyByDomain(%j) = %j', (keys, id) => expect(matchCompanyByDomain(keys, companies)).toBe(id));

  it('never matches a free mail domain even if a company claims it', () => {
    expect(matchCompanyByDomain(['x@gmail.com'], new Map([['gmail.com', 'cmp_g']]))).toBeNull();
  });
});

describe('cursors', () => {
  it('round-trips and refuses anything else', () => {
    const c = encodeCursor(['lee ann', 'con_1']);
    expect(decodeCursor(c, ['string', 'string'] as const)).toEqual(['lee ann', 'con_1']);
    expect(decodeCursor(encodeCursor([5, 'x']), ['number', 'string'] as const)).toEqual([5, 'x']);
    expect(decodeCursor(c, ['number', 'string'] as const)).toBeNull();
    expect(decodeCursor(c, ['string'] as const)).toBeNull();
    expect(decodeCursor('not a cursor', ['string'] as const)).toBeNull();
    expect(decodeCursor('', ['string'] as const)).toBeNull();
  });
  it('knows the timeline kinds', () => {
    expect(isTimelineKind('email_sent')).toBe(true);
    expect(isTimelineKind('contact_created')).toBe(true);
    expect(isTimelineKind('email_deleted')).toBe(false);
  });
});

describe('import header and rows', () => {
  it.each([
    [['Email', 'First Name', 'Last Name'], { email: 0, firstName: 1, lastName: 2 }, []],
    [['\uFEFFE-mail Address', 'FIRST_NAME', 'surname', 'Organisation', 'Contact Owner'], { email: 0, firstName: 1, lastName: 2, company: 3, ownerEmail: 4 }, []],
    [['Full Name', 'email', 'Phone', 'Email'], { name: 0, email: 1 }, ['Phone', 'Email']],
    [['name', 'mail', 'Other Emails', 'owner email', 'Company Name'], { name: 0, email: 1, otherEmails: 2, ownerEmail: 3, company: 4 }, []],
  ])('maps %j', (cells, columns, ignored) => {
    const r = mapImportHeader(cells);
    expect(r).toEqual({ ok: true, value: { columns, ignored } });
  });

  it('refuses a header without an email column and says what it found', () => {
    const r = mapImportHeader(['ann@acme.com', 'Ann']);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain('"ann@acme.com", "Ann"');
  });

  const cols = { columns: { email: 0, name: 1, firstName: 2, lastName: 3, company: 4, ownerEmail: 5, otherEmails: 6 }, ignored: [] };
  it('normalises a good row, splitting the name when first/last are empty', () => {
    expect(parseImportRow([' Ann@Acme.COM ', 'Lee, Ann', '', '', ' Acme  Inc ', 'Owner@Acme.com', 'ann.lee@acme.com; ann@acme.com'], cols, 4)).toEqual({
      ok: true,
      value: {
        row: 4,
        email: 'Ann@acme.com',
        emailKey: 'ann@acme.com',
        otherEmails: [{ email: 'ann.lee@acme.com', key: 'ann.lee@acme.com' }],
        firstName: 'Ann',
        lastName: 'Lee',
        companyName: 'Acme Inc',
        ownerEmail: 'Owner@Acme.com',
        ownerEmailKey: 'owner@acme.com',
      },
    });
  });
  it('prefers first/last columns over the name column', () => {
    const r = parseImportRow(['a@b.com', 'Someone Else', 'Ann', ''], cols, 2);
    expect(r.ok && [r.value.firstName, r.value.lastName]).toEqual(['Ann', '']);
  });
  it('reports every problem of a row', () => {
    const r = parseImportRow(['not-an-email', '', 'x'.repeat(201), '', '', 'boss@', 'bad'], cols, 7);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.errors.map((e) => [e.row, e.field, e.code])).toEqual([
        [7, 'email', 'invalid_email'],
        [7, 'otherEmails', 'invalid_email'],
        [7, 'firstName', 'too_long'],
        [7, 'ownerEmail', 'invalid_email'],
      ]);
    }
  });
  it('reports a missing email', () => {
    const r = parseImportRow(['', 'Ann Lee'], cols, 3);
    expect(r).toEqual({ ok: false, errors: [{ row: 3, field: 'email', code: 'missing_email', message: expect.stringContaining('no email') }] });
  });

  it.each([
    ['email,name\na@b.com,x', ','],
    ['email;name;company\na@b.com;x;y', ';'],
    ['"e,mail";name;company', ';'],
    ['email\tname', '\t'],
    ['email', ','],
  ])('detects the delimiter of %j', (text, d) => expect(detectDelimiter(text)).toBe(d));
});

describe('prepareImport', () => {
  it('reads a messy file: BOM, CRLF, blank lines, quoted commas and newlines, bad emails, duplicates', () => {
    const csv = [
      '\uFEFFE-mail,Name,Company',
      'ann@acme.com,"Lee, Ann","Acme, Inc."',
      '',
      'bad-email,Bob,',
      '"carl@acme.com","Carl ""CJ"" Jones","Multi',
      'line Co"',
      'ANN@acme.com,Ann Again,',
      ',No Email,',
      'dora@globex.io,Dora,Globex',
    ].join('\r\n');
    const r = prepareImport(csv, { maxRows: 100 });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.totalRows).toBe(6);
    expect(r.value.rows.map((x) => [x.row, x.emailKey, x.firstName, x.lastName, x.companyName])).toEqual([
      [2, 'ann@acme.com', 'Ann', 'Lee', 'Acme, Inc.'],
      [5, 'carl@acme.com', 'Carl "CJ"', 'Jones', 'Multi line Co'],
      [9, 'dora@globex.io', 'Dora', '', 'Globex'],
    ]);
    expect(r.value.errors.map((e) => [e.row, e.field, e.code])).toEqual([
      [4, 'email', 'invalid_email'],
      [7, 'email', 'duplicate_in_file'],
      [8, 'email', 'missing_email'],
    ]);
    expect(r.value.errors[1]!.message).toContain('also on row 2');
    expect(r.value.failedRows).toBe(3);
  });

  it('reads semicolon files and leading blank lines', () => {
    const r = prepareImport('\n\nemail;first name\nann@acme.com;Ann\n', { maxRows: 10 });
    expect(r.ok && r.value.rows.map((x) => [x.row, x.emailKey, x.firstName])).toEqual([[4, 'ann@acme.com', 'Ann']]);
  });

  it('refuses files without an email column, empty files, too many rows and broken quoting', () => {
    expect(prepareImport('name,company\nAnn,Acme', { maxRows: 10 })).toMatchObject({ ok: false, code: 'csv_no_email_column' });
    expect(prepareImport('', { maxRows: 10 })).toMatchObject({ ok: false, code: 'csv_no_email_column' });
    expect(prepareImport('email\na@b.com\nc@d.com\n', { maxRows: 1 })).toMatchObject({ ok: false, code: 'too_many_rows', rows: 2, max: 1 });
    expect(prepareImport('email,name\na@b.com,"unclosed\n', { maxRows: 10 })).toMatchObject({ ok: false, code: 'csv_invalid' });
  });

  it('treats another row using a row’s secondary email as a duplicate', () => {
    const r = prepareImport('email,other emails\na@x.com,b@x.com\nb@x.com,\n', { maxRows: 10 });
    expect(r.ok && r.value.errors.map((e) => [e.row, e.field, e.code])).toEqual([[3, 'email', 'duplicate_in_file']]);
  });
});

describe('checkTimeZone', () => {
  it.each([
    ['Asia/Kathmandu', 'Asia/Kathmandu'],
    ['  America/New_York ', 'America/New_York'],
    ['Australia/Lord_Howe', 'Australia/Lord_Howe'],
    ['America/Argentina/Buenos_Aires', 'America/Argentina/Buenos_Aires'],
    ['UTC', 'UTC'],
    ['Etc/GMT+5', 'Etc/GMT+5'],
  ])('accepts the IANA name %j', (input, zone) => {
    expect(checkTimeZone(input)).toEqual({ ok: true, zone });
  });
  it.each(['', 'Mars/Olympus_Mons', '+05:45', 'EST', 'CET', 'Europe/Paris; drop table', 'Asia/', 'x'.repeat(65)])('refuses %j with a message naming an example', (input) => {
    const r = checkTimeZone(input);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toMatch(/is not a time zone\. Use an IANA name such as Europe\/Paris/);
  });
});
