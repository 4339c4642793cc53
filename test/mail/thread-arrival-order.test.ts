/**
 * Threading is indifferent to arrival order (issue 18): a References-linked set of messages ends in ONE
 * conversation whatever order its messages arrive in and however they are batched, replies that share an
 * ancestor Mailroom never saw meet in one conversation (and the missing message takes its place there when
 * it arrives), and when two conversations turn out to be one thread the older survives with the work
 * people did on both. Real database (SQLite, or PostgreSQL with DATABASE_URL).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { createIngestor } from '../../src/app/engine.js';
import { ingestBatch, type IngestItem, type Ingestor } from '../../src/features/ingest/ingest.js';
import type { ConnectionsTable } from '../../src/platform/database/schema.js';
import { referencesClosure } from '../../src/features/ingest/domain/thread-quality.js';

let t: TestApp;
let ingestor: Ingestor;
let a: Awaited<ReturnType<TestApp['account']>>;
let run = 0;
let inboxId: string;

beforeAll(async () => {
  t = await createTestApp();
  ingestor = createIngestor(t.env);
  a = await t.account();
  inboxId = ((await t.api(a.token, 'POST', '/api/v1/inboxes', { name: 'Arrival order' })).json() as { id: string }).id;
  expect(inboxId).toBeTruthy();
});
afterAll(async () => {
  await t?.close();
});

const BASE = Date.UTC(2026, 10, 20, 9, 0, 0);

async function teamConnection(): Promise<{ conn: ConnectionsTable; inboxId: string }> {
  run += 1;
  const conn = (await insertConnection(t, { accountId: a.accountId, userId: a.adminUserId, type: 'team', address: `order${run}@acme.test`, inboxId })) as ConnectionsTable;
  return { conn, inboxId };
}

interface Mail {
  id: string;
  subject: string;
  from: string;
  inReplyTo?: string | undefined;
  references?: string[] | undefined;
  at: number;
}

/** Addressed to the connection's own address: it is never a shared participant, so no subject join helps. */
function raw(m: Mail, to: string): Buffer {
  const headers = [
    `From: <${m.from}>`,
    `To: <${to}>`,
    `Subject: ${m.subject}`,
    `Message-ID: <${m.id}>`,
    ...(m.inReplyTo ? [`In-Reply-To: <${m.inReplyTo}>`] : []),
    ...(m.references?.length ? [`References: ${m.references.map((r) => `<${r}>`).join(' ')}`] : []),
    `Date: ${new Date(m.at).toUTCString()}`,
    'Content-Type: text/plain; charset=utf-8',
  ];
  return Buffer.from(`${headers.join('\r\n')}\r\n\r\nBody of ${m.id}.\r\n`);
}

const item = (m: Mail, to: string): IngestItem => ({ raw: raw(m, to), source: 'smtp', direction: 'inbound', receivedAt: m.at + 1000 });

async function ingestInBatches(conn: ConnectionsTable, mails: Mail[], cuts: number[] = []): Promise<void> {
  let start = 0;
  for (const cut of [...cuts.filter((c) => c > 0 && c < mails.length)].sort((x, y) => x - y).concat(mails.length)) {
    if (cut > start) await ingestBatch(ingestor, conn, mails.slice(start, cut).map((m) => item(m, conn.address_key)));
    start = cut;
  }
}

/** Messages by conversation (Message-IDs, sorted), and whether every live conversation's row agrees with its messages. */
async function partition(conn: ConnectionsTable) {
  const rows = await t.database.db.selectFrom('messages').select(['message_id', 'conversation_id', 'from_address']).where('connection_id', '=', conn.id).execute();
  const convs = await t.database.db.selectFrom('conversations').selectAll().where('connection_id', '=', conn.id).execute();
  const byConv = new Map<string, string[]>();
  for (const r of rows) byConv.set(r.conversation_id!, [...(byConv.get(r.conversation_id!) ?? []), r.message_id!].sort());
  const live = convs.filter((c) => c.deleted_at === null);
  return {
    groups: [...byConv.values()].map((l) => l.join(' ')).sort(),
    live: live.length,
    consistent:
      live.every((c) => c.message_count === (byConv.get(c.id) ?? []).length) &&
      convs.filter((c) => c.deleted_at !== null).every((c) => c.message_count === 0 && !byConv.has(c.id)) &&
      [...byConv.keys()].every((id) => live.some((c) => c.id === id)),
    participants: (id: string) => JSON.parse(convs.find((c) => c.id === id)!.participants) as string[],
    conversationOf: (mid: string) => rows.find((r) => r.message_id === mid)?.conversation_id ?? null,
    row: (id: string) => convs.find((c) => c.id === id)!,
  };
}

/** a ← r ← b ← c, each with full References; each reply from another person. */
function chain(tag: string): Record<'a' | 'r' | 'b' | 'c', Mail> {
  const id = (x: string) => `${tag}-${x}@example.org`;
  return {
    a: { id: id('a'), subject: `Chain ${tag}`, from: 'ann@example.org', at: BASE },
    r: { id: id('r'), subject: `Re: Chain ${tag}`, from: 'rob@example.org', inReplyTo: id('a'), references: [id('a')], at: BASE + 60_000 },
    b: { id: id('b'), subject: `Re: Chain ${tag}`, from: 'bea@example.org', inReplyTo: id('r'), references: [id('a'), id('r')], at: BASE + 120_000 },
    c: { id: id('c'), subject: `Re: Chain ${tag}`, from: 'cid@example.org', inReplyTo: id('b'), references: [id('a'), id('r'), id('b')], at: BASE + 180_000 },
  };
}

describe('arrival order', () => {
  type Style = 'In-Reply-To and References' | 'References only' | 'In-Reply-To only';
  const styled = (m: Mail, style: Style): Mail =>
    style === 'References only' ? { ...m, inReplyTo: undefined } : style === 'In-Reply-To only' ? { ...m, references: undefined } : m;
  const cases: Array<[Style, string, number[]]> = [];
  for (const style of ['In-Reply-To and References', 'References only', 'In-Reply-To only'] as const) {
    cases.push([style, 'one message per batch', [1, 2, 3]], [style, 'one batch', []], [style, 'two batches', [2]]);
  }
  it.each(cases)('a ← r ← b ← c imported c, b, r, a ends as one conversation (%s, %s)', async (style, _batching, cuts) => {
    const { conn } = await teamConnection();
    const m = chain(`cbra${run}`);
    await ingestInBatches(
      conn,
      [m.c, m.b, m.r, m.a].map((x) => styled(x, style)),
      cuts,
    );
    const p = await partition(conn);
    expect(p.groups).toEqual([[m.a.id, m.b.id, m.c.id, m.r.id].sort().join(' ')]);
    expect(p.live).toBe(1);
    expect(p.consistent).toBe(true);
    const conv = p.conversationOf(m.a.id)!;
    expect(p.participants(conv).sort()).toEqual(['ann@example.org', 'bea@example.org', 'cid@example.org', 'rob@example.org', conn.address_key].sort());
    expect(p.row(conv).last_message_at).toBe(m.c.at);
  });
});

describe('an ancestor never seen', () => {
  it('replies naming a missing message meet in one conversation, and the message takes its place there when it arrives', async () => {
    const { conn } = await teamConnection();
    const root = `ghost${run}-root@example.org`;
    const b: Mail = { id: `ghost${run}-b@example.org`, subject: 'Re: Outage', from: 'bea@example.org', inReplyTo: root, references: [root], at: BASE };
    // Different subject and sender: only the missing root links them.
    const c: Mail = { id: `ghost${run}-c@example.org`, subject: 'Re: Outage (update)', from: 'cid@example.org', references: [root], at: BASE + 60_000 };
    await ingestInBatches(conn, [b, c], [1]);
    let p = await partition(conn);
    expect(p.groups).toEqual([[b.id, c.id].sort().join(' ')]);
    const conv = p.conversationOf(b.id);
    await ingestInBatches(conn, [{ id: root, subject: 'Outage', from: 'ann@example.org', at: BASE - 60_000 }]);
    p = await partition(conn);
    expect(p.groups).toEqual([[b.id, c.id, root].sort().join(' ')]);
    expect(p.conversationOf(root)).toBe(conv);
    expect(p.consistent).toBe(true);
  });

  it('ids that are not ids link nothing (In-Reply-To: <yes>)', async () => {
    const { conn } = await teamConnection();
    const x: Mail = { id: `yes${run}-x@example.org`, subject: 'Patch one', from: 'dev1@example.org', inReplyTo: 'yes', at: BASE };
    const y: Mail = { id: `yes${run}-y@example.org`, subject: 'Patch two', from: 'dev2@example.org', inReplyTo: 'yes', at: BASE + 1 };
    await ingestInBatches(conn, [x, y], [1]);
    expect((await partition(conn)).live).toBe(2);
  });
});

describe('merging two conversations that are one thread', () => {
  it('the older survives; the younger one\'s assignee, comments and history move to it, with a merge entry', async () => {
    const { conn } = await teamConnection();
    const tag = `merge${run}`;
    const id = (x: string) => `${tag}-${x}@example.org`;
    // c names only b (a parent not seen yet): its own conversation, the older one.
    const c: Mail = { id: id('c'), subject: 'Re: Refund', from: 'cid@example.org', inReplyTo: id('b'), at: BASE };
    const root: Mail = { id: id('a'), subject: 'Refund request', from: 'ann@example.org', at: BASE + 60_000 };
    await ingestInBatches(conn, [c, root], [1]);
    let p = await partition(conn);
    const older = p.conversationOf(c.id)!;
    const younger = p.conversationOf(root.id)!;
    expect(older).not.toBe(younger);
    const assigned = await t.api(a.token, 'POST', `/api/v1/conversations/${younger}/assign`, { assigneeId: a.adminUserId });
    expect(assigned.statusCode, assigned.body).toBeLessThan(300);
    expect((await t.api(a.token, 'POST', `/api/v1/conversations/${younger}/comments`, { body: 'Refund approved, waiting for the bank.' })).statusCode).toBe(201);

    // b links them: it names a (younger conversation) and is the parent c named (older conversation).
    await ingestInBatches(conn, [{ id: id('b'), subject: 'Re: Refund request', from: 'support@acme.test', inReplyTo: id('a'), references: [id('a')], at: BASE + 120_000 }]);
    p = await partition(conn);
    expect(p.live).toBe(1);
    expect(p.consistent).toBe(true);
    expect(p.conversationOf(root.id)).toBe(older);
    expect(p.row(older).assignee_id).toBe(a.adminUserId);
    expect(p.row(younger).deleted_at).not.toBeNull();

    const thread = (await t.api(a.token, 'GET', `/api/v1/conversations/${older}`)).json() as { messages: unknown[]; activity: Array<{ kind: string; data: Record<string, unknown> }> };
    expect(thread.messages).toHaveLength(3);
    const kinds = thread.activity.map((x) => x.kind);
    expect(kinds).toContain('comment');
    expect(kinds).toContain('assignment');
    expect(thread.activity.find((x) => x.kind === 'merge')?.data).toEqual({ mergedConversationId: younger, summary: 'Merged with another conversation of the same thread' });
    const left = await t.database.db.selectFrom('conversation_activity').select('id').where('conversation_id', '=', younger).execute();
    expect(left).toEqual([]);
  });
});

// A random reply tree: parent[i] < i is the parent of message i (message 0 is the root). Each reply names
// its parent by In-Reply-To with full References, or by References only, or by In-Reply-To only.
type Link = 'full' | 'references_only' | 'in_reply_to_only';
interface Tree {
  parents: number[];
  links: Link[];
}
const tree: fc.Arbitrary<Tree> = fc.integer({ min: 1, max: 7 }).chain((n) =>
  fc.record({
    parents: fc.tuple(...[...Array(n).keys()].map((i) => (i === 0 ? fc.constant(-1) : fc.nat(i - 1)))),
    links: fc.array(fc.constantFrom<Link>('full', 'full', 'references_only', 'in_reply_to_only'), { minLength: n, maxLength: n }),
  }),
);

function treeMails(trees: Tree[], tag: string): Mail[] {
  const out: Mail[] = [];
  trees.forEach((tr, ti) => {
    const id = (i: number) => `${tag}-t${ti}-m${i}@example.org`;
    const ancestors = (i: number): number[] => (tr.parents[i]! < 0 ? [] : [...ancestors(tr.parents[i]!), tr.parents[i]!]);
    tr.parents.forEach((parent, i) => {
      const refs = ancestors(i).map(id);
      const link = tr.links[i]!;
      out.push({
        id: id(i),
        // Distinct subjects and senders per tree: no subject join can glue two trees.
        subject: `${i ? 'Re: ' : ''}Tree ${ti} topic ${tag}`,
        from: `person${ti}@tree${ti}.example.org`,
        inReplyTo: parent >= 0 && link !== 'references_only' ? id(parent) : undefined,
        references: parent >= 0 && link !== 'in_reply_to_only' ? refs : undefined,
        at: BASE + ti * 3_600_000 + i * 60_000,
      });
    });
  });
  return out;
}

const scenario = fc.array(tree, { minLength: 1, maxLength: 3 }).chain((trees) => {
  const n = trees.reduce((s, tr) => s + tr.parents.length, 0);
  return fc.record({
    trees: fc.constant(trees),
    order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
    cuts: fc.array(fc.nat(n), { maxLength: 4 }),
  });
});

describe('any arrival order of a reply tree', () => {
  it('gives the partition of in-order import: one conversation per tree, counts consistent', async () => {
    await fc.assert(
      fc.asyncProperty(scenario, async (s) => {
        const label = (groups: string[]) => groups.map((g) => g.replace(/p\d+-/g, '')).sort();
        const inOrder = await teamConnection();
        const inOrderMails = treeMails(s.trees, `p${run}`);
        await ingestInBatches(inOrder.conn, inOrderMails, [...inOrderMails.keys()]);
        const expected = await partition(inOrder.conn);
        expect(expected.live).toBe(s.trees.length);

        const shuffled = await teamConnection();
        const mails = treeMails(s.trees, `p${run}`);
        await ingestInBatches(shuffled.conn, s.order.map((i) => mails[i]!), s.cuts);
        const got = await partition(shuffled.conn);
        expect(got.consistent).toBe(true);
        expect(got.live).toBe(s.trees.length);
        expect(label(got.groups)).toEqual(label(expected.groups));
      }),
      { numRuns: 25, seed: 20261218 },
    );
  }, 180_000);
});

describe('any arrival order of a reply tree, some of it never seen', () => {
  // Replies name their parent in any of the three styles; some messages (root or middle) never arrive at
  // first. Whatever the order and batching, the conversations are exactly the References closure of the
  // messages that arrived (replies to a message never seen meet through its placeholder; a reply that came
  // before its parent brings its whole conversation); when the missing messages arrive, everything is ONE
  // conversation, one of those the first messages formed.
  const scenarioWithMissing = tree.chain((tr) => {
    const n = tr.parents.length;
    return fc.record({
      tr: fc.constant(tr),
      missing: fc.subarray([...Array(n).keys()], { maxLength: Math.max(0, n - 1) }),
      order: fc.shuffledSubarray([...Array(n).keys()], { minLength: n, maxLength: n }),
      cuts: fc.array(fc.nat(n), { maxLength: 3 }),
    });
  });
  const closureGroups = (mails: Mail[]) => {
    const closure = referencesClosure(mails.map((m) => ({ messageId: m.id, parents: [m.inReplyTo, ...(m.references ?? [])].filter((x): x is string => Boolean(x)) })));
    const by = new Map<string, string[]>();
    for (const [id, root] of closure) by.set(root, [...(by.get(root) ?? []), id]);
    return [...by.values()].map((g) => g.sort().join(' ')).sort();
  };
  it('gives the References closure of what arrived, then one conversation (one of those) with the missing messages in it', async () => {
    await fc.assert(
      fc.asyncProperty(scenarioWithMissing, async (s) => {
        const { conn } = await teamConnection();
        // A different sender each: only the ids link them (no shared participant for a subject join).
        const mails = treeMails([s.tr], `l${run}`).map((m, i) => ({ ...m, from: `person${i}@set.example.org` }));
        const seen = s.order.filter((i) => !s.missing.includes(i)).map((i) => mails[i]!);
        await ingestInBatches(conn, seen, s.cuts);
        let p = await partition(conn);
        expect(p.consistent).toBe(true);
        expect(p.groups).toEqual(closureGroups(seen));
        const before = new Set(seen.map((m) => p.conversationOf(m.id)));
        await ingestInBatches(conn, s.missing.map((i) => mails[i]!), s.cuts);
        p = await partition(conn);
        expect(p.live).toBe(1);
        expect(p.consistent).toBe(true);
        expect(p.groups).toEqual([mails.map((m) => m.id).sort().join(' ')]);
        // The missing messages joined: no conversation of their own survives.
        expect(before.has(p.conversationOf(mails[0]!.id))).toBe(true);
      }),
      { numRuns: 30, seed: 20261206 },
    );
  }, 240_000);
});

describe('a message without a Date', () => {
  const undated = (o: { id: string; subject: string; from: string; to: string; received?: string; references?: string }) =>
    Buffer.from(
      [
        ...(o.received ? [`Received: from mx.example.org by mail.acme.test with ESMTP id 1; ${o.received}`] : []),
        `From: <${o.from}>`,
        `To: <${o.to}>`,
        'Cc: <colleague@customer.example>',
        `Subject: ${o.subject}`,
        `Message-ID: <${o.id}>`,
        ...(o.references ? [`References: <${o.references}>`] : []),
        'Content-Type: text/plain; charset=utf-8',
        '',
        'No date here.',
        '',
      ].join('\r\n'),
    );
  const NOW = Date.UTC(2026, 11, 1);

  it('never anchors a subject join: a years-old reply imported with it stays apart', async () => {
    const { conn } = await teamConnection();
    const tag = `undated${run}`;
    await ingestBatch(ingestor, conn, [{ raw: undated({ id: `${tag}-a@x.org`, subject: 'Invoice question', from: 'ann@customer.example', to: conn.address_key }), source: 'import', direction: 'inbound', receivedAt: NOW }]);
    const old: Mail = { id: `${tag}-old@x.org`, subject: 'Re: Invoice question', from: 'ann@customer.example', at: Date.UTC(2019, 0, 5) };
    await ingestBatch(ingestor, conn, [{ raw: raw(old, conn.address_key), source: 'import', direction: 'inbound', receivedAt: NOW + 1000 }]);
    const p = await partition(conn);
    expect(p.live).toBe(2);
    const stored = await t.database.db.selectFrom('messages').select(['message_id', 'malformed']).where('connection_id', '=', conn.id).execute();
    expect(JSON.parse(stored.find((m) => m.message_id === `${tag}-a@x.org`)!.malformed)).toEqual(['missing_date', 'dated_by_arrival']);
  });

  it('is dated by its Received header, the file time, then its arrival, and moves no conversation time', async () => {
    const { conn } = await teamConnection();
    const tag = `received${run}`;
    const root: Mail = { id: `${tag}-root@x.org`, subject: 'Delivery', from: 'ann@customer.example', at: Date.UTC(2024, 4, 1) };
    await ingestBatch(ingestor, conn, [
      { raw: raw(root, conn.address_key), source: 'import', direction: 'inbound', receivedAt: NOW },
      { raw: undated({ id: `${tag}-r@x.org`, subject: 'Re: Delivery', from: 'bob@customer.example', to: conn.address_key, references: root.id, received: 'Wed, 1 May 2024 12:00:00 +0000' }), source: 'import', direction: 'inbound', receivedAt: NOW },
      { raw: undated({ id: `${tag}-f@x.org`, subject: 'Another', from: 'cid@customer.example', to: conn.address_key }), source: 'import', direction: 'inbound', receivedAt: NOW, fileTime: Date.UTC(2023, 0, 1) },
    ]);
    const p = await partition(conn);
    expect(p.live).toBe(2);
    const conv = p.row(p.conversationOf(root.id)!);
    expect(conv.message_count).toBe(2);
    expect(conv.last_message_at).toBe(root.at);
    const stored = await t.database.db.selectFrom('messages').select(['message_id', 'malformed']).where('connection_id', '=', conn.id).execute();
    const flags = (id: string) => JSON.parse(stored.find((m) => m.message_id === id)!.malformed) as string[];
    expect(flags(`${tag}-r@x.org`)).toContain('dated_by_received');
    expect(flags(`${tag}-f@x.org`)).toContain('dated_by_file_time');
    expect(p.row(p.conversationOf(`${tag}-f@x.org`)!).last_message_at).toBe(Date.UTC(2023, 0, 1));
  });
});
