/**
 * What happens when mail reaches a conversations inbox (through the real ingest pipeline, on SQLite or
 * PostgreSQL): routing by each rule with its recorded reasons, contact linking, deny/allow lists, reopen
 * rules (customers reopen; auto-replies and loops never do), deactivated users unassigned.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { conversationRow, deliver, ingestorOf, inboxFixture, member, ok, rawMail, uniq } from './support.js';
import { insertConnection } from '../support/connections.js';
import { parseMessage } from '../../src/mail/parse/index.js';
import { decodeThreadIndex } from '../../src/features/inbox/domain/thread-index.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

const thread = (token: string, id: string) => ok(t, token, 'GET', `/api/v1/conversations/${id}`);
const routing = (s: Awaited<ReturnType<typeof inboxFixture>>, rule: unknown) => ok(t, s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/routing/${s.conn.id}`, { rule });

describe('routing new conversations', () => {
  it('no rule: unassigned, nothing recorded', async () => {
    const s = await inboxFixture(t);
    const id = await deliver(t, s.conn, rawMail({ subject: 'Hello' }));
    expect((await conversationRow(t, id)).assignee_id).toBeNull();
    expect((await thread(s.a.token, id)).activity).toEqual([]);
  });

  it('round robin over eligible members, skipping (and recording) the away, the free seat and the outside-hours', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana Alves' });
    const ben = await member(t, s.a, { name: 'Ben Brown' });
    const away = await member(t, s.a, { name: 'Ada Away' });
    const free = await member(t, s.a, { name: 'Fay Free', seat: 'free' });
    const night = await member(t, s.a, { name: 'Nick Night' });
    await ok(t, s.a.token, 'PATCH', `/api/v1/users/${away.user.id}`, { availability: 'away' });
    await ok(t, s.a.token, 'PATCH', `/api/v1/users/${night.user.id}`, { workingHours: { timezone: 'UTC', days: {} } });
    const view = await routing(s, { kind: 'users', strategy: 'round_robin', userIds: [ana.user.id, away.user.id, free.user.id, night.user.id, ben.user.id] });
    expect(view.rules[0]).toMatchObject({ connectionId: s.conn.id, rule: { kind: 'users', strategy: 'round_robin' } });

    const got: string[] = [];
    for (let i = 0; i < 4; i++) got.push((await conversationRow(t, await deliver(t, s.conn, rawMail({ subject: `Question ${i}`, from: `c${i}-${uniq()}@example.org` })))).assignee_id!);
    expect(got).toEqual([ana.user.id, ben.user.id, ana.user.id, ben.user.id]);

    const last = await deliver(t, s.conn, rawMail({ subject: 'Why', from: `why-${uniq()}@example.org` }));
    const th = await thread(ana.token, last);
    const a = th.activity.find((x: any) => x.kind === 'assignment');
    expect(a.data).toMatchObject({ by: 'routing', rule: 'users', decidedBy: 'round_robin', assigneeId: ana.user.id, assigneeName: 'Ana Alves' });
    expect(a.data.skipped.map((x: any) => [x.name, x.reason])).toEqual([
      ['Ada Away', 'away'],
      ['Fay Free', 'no_paid_seat'],
      ['Nick Night', 'outside_working_hours'],
    ]);
    expect(a.data.summary).toBe('Assigned to Ana Alves by round robin; skipped Ada Away (away), Fay Free (no paid seat), Nick Night (outside working hours).');
    // The assignee was told.
    const n = await ok(t, ana.token, 'GET', '/api/v1/notifications');
    expect(n.notifications.some((x: any) => x.kind === 'conversation.assigned')).toBe(true);
  });

  it('round robin over a team; members of a restricted inbox only', async () => {
    const s = await inboxFixture(t, { access: 'restricted' });
    const team = await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: `Tier 1 ${uniq()}` });
    const inside = await member(t, s.a, { name: 'In Side', teamIds: [team.id] });
    const outside = await member(t, s.a, { name: 'Out Side', teamIds: [team.id] });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { userId: inside.user.id });
    await routing(s, { kind: 'users', strategy: 'round_robin', teamIds: [team.id] });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Team routing' }));
    expect((await conversationRow(t, id)).assignee_id).toBe(inside.user.id);
    const a = (await thread(s.a.token, id)).activity.find((x: any) => x.kind === 'assignment');
    expect(a.data.skipped).toEqual([{ userId: outside.user.id, name: 'Out Side', reason: 'not_inbox_member' }]);
  });

  it('least open load with a per-user cap, then nobody', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const ben = await member(t, s.a, { name: 'Ben' });
    await routing(s, { kind: 'users', strategy: 'least_open', userIds: [ana.user.id, ben.user.id], perUserCap: 2 });
    const assignees: Array<string | null> = [];
    for (let i = 0; i < 5; i++) assignees.push((await conversationRow(t, await deliver(t, s.conn, rawMail({ subject: `Load ${i}`, from: `l${i}-${uniq()}@example.org` })))).assignee_id);
    expect(assignees.slice(0, 4).sort()).toEqual([ana.user.id, ana.user.id, ben.user.id, ben.user.id].sort());
    expect(assignees[4]).toBeNull();
    // Closing one frees a place under the cap.
    const anaOpen = await t.database.db.selectFrom('conversations').select('id').where('assignee_id', '=', ana.user.id).executeTakeFirstOrThrow();
    await ok(t, ana.token, 'POST', `/api/v1/conversations/${anaOpen.id}/status`, { status: 'closed' });
    expect((await conversationRow(t, await deliver(t, s.conn, rawMail({ subject: 'Load 5', from: `l5-${uniq()}@example.org` })))).assignee_id).toBe(ana.user.id);
  });

  it('contact owner, with a fallback when the owner is away; the conversation is linked to the contact', async () => {
    const s = await inboxFixture(t);
    const owner = await member(t, s.a, { name: 'Olga Owner' });
    const backup = await member(t, s.a, { name: 'Bob Backup' });
    const email = `vip-${uniq()}@example.org`;
    const contact = await ok(t, s.a.token, 'POST', '/api/v1/contacts', { firstName: 'Vera', lastName: 'Vip', emails: [email], ownerId: owner.user.id });
    await routing(s, { kind: 'contact_owner', fallback: { kind: 'users', strategy: 'round_robin', userIds: [backup.user.id] } });

    const first = await deliver(t, s.conn, rawMail({ subject: 'VIP question', from: `Vera <${email}>` }));
    expect(await conversationRow(t, first)).toMatchObject({ assignee_id: owner.user.id, contact_id: contact.id });
    expect((await thread(s.a.token, first)).contact).toEqual({ id: contact.id, name: 'Vera Vip' });

    await ok(t, s.a.token, 'PATCH', `/api/v1/users/${owner.user.id}`, { availability: 'away' });
    const second = await deliver(t, s.conn, rawMail({ subject: 'VIP again', from: email }));
    expect((await conversationRow(t, second)).assignee_id).toBe(backup.user.id);
    const a = (await thread(s.a.token, second)).activity.find((x: any) => x.kind === 'assignment');
    expect(a.data).toMatchObject({ rule: 'contact_owner', decidedBy: 'round_robin', usedFallback: true, skipped: [{ name: 'Olga Owner', reason: 'away' }] });

    const stranger = await deliver(t, s.conn, rawMail({ subject: 'Who am I', from: `nobody-${uniq()}@example.org` }));
    const b = (await thread(s.a.token, stranger)).activity.find((x: any) => x.kind === 'assignment');
    expect(b.data.notes).toEqual(['the sender is not a contact']);
    expect((await conversationRow(t, stranger)).assignee_id).toBe(backup.user.id);
  });

  it('auto-replies that start a conversation are not routed', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    await routing(s, { kind: 'users', strategy: 'round_robin', userIds: [ana.user.id] });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Out of office', headers: { 'Auto-Submitted': 'auto-replied' } }));
    expect((await conversationRow(t, id)).assignee_id).toBeNull();
    const th = await thread(s.a.token, id);
    expect(th.messages[0].kind).toBe('auto_reply');
    expect(th.activity[0].data.summary).toBe('Not routed: this is an automatic reply.');
  });

  it('a challenge-response request is its own kind: not routed, shown as such, never a bounce', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    await routing(s, { kind: 'users', strategy: 'round_robin', userIds: [ana.user.id] });
    const body = 'Your message to carla@example.org is waiting on her Waiting List. Please verify that you are a real person to be added to her Guest List: https://www.boxbe.com/anno?tc=1';
    const id = await deliver(t, s.conn, rawMail({ subject: 'Your email is waiting (Boxbe)', from: 'Boxbe <notify@boxbe.com>', body }));
    expect((await conversationRow(t, id)).assignee_id).toBeNull();
    const th = await thread(s.a.token, id);
    expect(th.messages[0]).toMatchObject({ kind: 'challenge', bounce: null });
    expect(th.activity[0].data.summary).toMatch(/^Not routed: this is a challenge-response request/);
  });

  it('refuses routing rules the plan does not have, and rules naming strangers', async () => {
    const s = await inboxFixture(t, { plan: 'free' });
    const r = await t.api(s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/routing/${s.conn.id}`, { rule: { kind: 'users', strategy: 'round_robin', userIds: [s.a.adminUserId] } });
    expect(r.statusCode).toBe(409);
    expect(r.json().error).toMatchObject({ code: 'plan_limit_reached' });
    expect(r.json().error.message).toMatch(/not part of the Free plan/);
    const e = await inboxFixture(t);
    const bad = await t.api(e.a.token, 'PUT', `/api/v1/inboxes/${e.inbox.id}/routing/${e.conn.id}`, { rule: { kind: 'users', strategy: 'round_robin', userIds: ['usr_nobody'] } });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.field).toBe('rule.userIds');
    const invalid = await t.api(e.a.token, 'PUT', `/api/v1/inboxes/${e.inbox.id}/routing/${e.conn.id}`, { rule: { kind: 'users', strategy: 'fastest', userIds: [e.a.adminUserId] } });
    expect(invalid.json().error.details.field).toBe('rule.strategy');
    // Members without the account-access permission cannot change routing.
    const m = await member(t, e.a);
    const denied = await t.api(m.token, 'PUT', `/api/v1/inboxes/${e.inbox.id}/routing/${e.conn.id}`, { rule: { kind: 'none' } });
    expect(denied.statusCode).toBe(403);
  });
});

describe('deny and allow lists', () => {
  it('denied senders go to spam unless allowed; the reason is recorded', async () => {
    const s = await inboxFixture(t);
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/sender-lists`, { list: 'deny', pattern: '*@Spam.Example' });
    const lists = await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/sender-lists`, { list: 'allow', pattern: 'friend@spam.example' });
    expect(lists.entries.map((e: any) => [e.list, e.pattern])).toEqual([
      ['allow', 'friend@spam.example'],
      ['deny', '@spam.example'],
    ]);
    const bad = await t.api(s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/sender-lists`, { list: 'deny', pattern: 'not a domain' });
    expect(bad.statusCode).toBe(400);

    const spam = await deliver(t, s.conn, rawMail({ subject: 'Cheap pills', from: 'pills@mx.spam.example' }));
    const friend = await deliver(t, s.conn, rawMail({ subject: 'Hi there', from: 'friend@spam.example' }));
    expect((await conversationRow(t, spam)).status).toBe('spam');
    expect((await conversationRow(t, friend)).status).toBe('open');
    const th = await thread(s.a.token, spam);
    expect(th.activity[0]).toMatchObject({ kind: 'spam', data: { reason: 'deny_list', pattern: '@spam.example' } });

    const list = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=spam`);
    expect(list.conversations.map((c: any) => c.id)).toEqual([spam]);
    const open = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations`);
    expect(open.conversations.map((c: any) => c.id)).toEqual([friend]);

    const entry = lists.entries.find((e: any) => e.list === 'deny');
    const after = await ok(t, s.a.token, 'DELETE', `/api/v1/inboxes/${s.inbox.id}/sender-lists/${entry.id}`);
    expect(after.entries).toHaveLength(1);
  });

  it('our own notifications coming back (X-Mailroom-Loop) are spam and never routed', async () => {
    const s = await inboxFixture(t);
    await routing(s, { kind: 'users', strategy: 'round_robin', userIds: [s.a.adminUserId] });
    const id = await deliver(t, s.conn, rawMail({ subject: 'You were assigned a conversation', headers: { 'X-Mailroom-Loop': s.a.accountId } }));
    expect(await conversationRow(t, id)).toMatchObject({ status: 'spam', assignee_id: null });
    expect((await thread(s.a.token, id)).activity[0]).toMatchObject({ kind: 'spam', data: { reason: 'loop' } });
  });
});

describe('reopening', () => {
  it('a customer message reopens a closed or snoozed conversation; auto-replies, bounces and loops never do', async () => {
    const s = await inboxFixture(t);
    const first = `r1-${uniq()}@example.org`;
    const id = await deliver(t, s.conn, rawMail({ id: first, subject: 'Refund' }));
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'closed' });

    await deliver(t, s.conn, rawMail({ subject: 'Re: Refund', inReplyTo: first, headers: { 'Auto-Submitted': 'auto-replied' }, body: 'I am out of the office.' }));
    expect((await conversationRow(t, id)).status).toBe('closed');
    await deliver(t, s.conn, rawMail({ subject: 'Re: Refund', inReplyTo: first, headers: { 'X-Mailroom-Loop': s.a.accountId } }));
    expect((await conversationRow(t, id)).status).toBe('closed');
    const bounce = [
      'From: Mail Delivery System <mailer-daemon@mx.example.org>',
      'To: support@acme.test',
      'Subject: Undelivered Mail Returned to Sender',
      `Message-ID: <bounce-${uniq()}@mx.example.org>`,
      `In-Reply-To: <${first}>`,
      'Auto-Submitted: auto-replied',
      'MIME-Version: 1.0',
      'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"',
      '',
      '--b1',
      'Content-Type: text/plain',
      '',
      'Delivery failed.',
      '--b1',
      'Content-Type: message/delivery-status',
      '',
      'Reporting-MTA: dns; mx.example.org',
      '',
      'Final-Recipient: rfc822; gone@example.org',
      'Action: failed',
      'Status: 5.1.1',
      '',
      '--b1--',
      '',
    ].join('\r\n');
    await deliver(t, s.conn, bounce);
    expect((await conversationRow(t, id)).status).toBe('closed');
    const kinds = (await thread(s.a.token, id)).messages.map((m: any) => m.kind);
    expect(kinds).toEqual(['normal', 'auto_reply', 'loop', 'bounce']);

    await deliver(t, s.conn, rawMail({ subject: 'Re: Refund', inReplyTo: first, body: 'Any news?' }));
    expect((await conversationRow(t, id)).status).toBe('open');
    const th = await thread(s.a.token, id);
    expect(th.activity.at(-1)).toMatchObject({ kind: 'status', data: { from: 'closed', to: 'open', reason: 'customer_replied' } });

    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/status`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 86_400_000).toISOString() });
    await deliver(t, s.conn, rawMail({ subject: 'Re: Refund', inReplyTo: first, body: 'Hello?' }));
    expect(await conversationRow(t, id)).toMatchObject({ status: 'open', snoozed_until: null });
  });
});

describe('users who leave', () => {
  it('deactivating a user unassigns their open and snoozed conversations; closed ones keep the assignee', async () => {
    const s = await inboxFixture(t);
    const leaver = await member(t, s.a, { name: 'Lee Leaver' });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await deliver(t, s.conn, rawMail({ subject: `Leaver ${i}`, from: `x${i}-${uniq()}@example.org` })));
    for (const id of ids) await ok(t, s.a.token, 'POST', `/api/v1/conversations/${id}/assign`, { assigneeId: leaver.user.id });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids[1]}/status`, { status: 'snoozed', snoozedUntil: new Date(Date.now() + 3_600_000).toISOString() });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ids[2]}/status`, { status: 'closed' });
    await ok(t, s.a.token, 'POST', `/api/v1/users/${leaver.user.id}/deactivate`);
    expect((await conversationRow(t, ids[0]!)).assignee_id).toBeNull();
    expect((await conversationRow(t, ids[1]!)).assignee_id).toBeNull();
    expect((await conversationRow(t, ids[2]!)).assignee_id).toBe(leaver.user.id);
    const a = (await thread(s.a.token, ids[0]!)).activity.at(-1);
    expect(a).toMatchObject({ kind: 'assignment', data: { by: 'user_left', summary: 'Unassigned: Lee Leaver was deactivated.' } });
    // The list can still find the closed one by the deactivated assignee.
    const l = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/conversations?view=closed&assigneeId=${leaver.user.id}`);
    expect(l.conversations.map((c: any) => [c.id, c.assignee.state])).toEqual([[ids[2], 'deactivated']]);
  });
});

describe('routing backlog', () => {
  it('what nobody could take is routed again once someone is eligible; a closed one is dropped', async () => {
    const { routeBacklog, routeBacklogJob } = await import('../../src/features/inbox/commands/routeBacklog.js');
    const { RunAgain } = await import('../../src/platform/jobs/worker.js');
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    await ok(t, s.a.token, 'PATCH', `/api/v1/users/${ana.user.id}`, { availability: 'away' });
    await routing(s, { kind: 'users', strategy: 'round_robin', userIds: [ana.user.id] });
    const waiting = await deliver(t, s.conn, rawMail({ subject: 'Nobody home', from: `w1-${uniq()}@example.org` }));
    const closed = await deliver(t, s.conn, rawMail({ subject: 'Never mind', from: `w2-${uniq()}@example.org` }));
    expect((await conversationRow(t, waiting)).assignee_id).toBeNull();
    const job = await t.database.db.selectFrom('jobs').selectAll().where('dedupe_key', '=', `route-backlog:${s.inbox.id}`).executeTakeFirstOrThrow();
    expect(job).toMatchObject({ kind: 'inbox.route_backlog', state: 'queued' });
    expect((await thread(s.a.token, waiting)).activity[0].data.summary).toBe('Nobody eligible: left unassigned; skipped Ana (away).');

    // Still away: nothing changes, nothing more recorded, and the job comes back later.
    expect(await routeBacklog(t.env, s.inbox.id)).toEqual({ assigned: 0, dropped: 0, waiting: 2 });
    await expect(routeBacklogJob({ inboxId: s.inbox.id }, { env: t.env })).rejects.toBeInstanceOf(RunAgain);
    expect((await thread(s.a.token, waiting)).activity).toHaveLength(1);

    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${closed}/status`, { status: 'closed' });
    await ok(t, s.a.token, 'PATCH', `/api/v1/users/${ana.user.id}`, { availability: 'available' });
    expect(await routeBacklog(t.env, s.inbox.id)).toEqual({ assigned: 1, dropped: 1, waiting: 0 });
    await routeBacklogJob({ inboxId: s.inbox.id }, { env: t.env }); // nothing left: no RunAgain
    expect((await conversationRow(t, waiting)).assignee_id).toBe(ana.user.id);
    const a = (await thread(s.a.token, waiting)).activity.at(-1);
    expect(a.data).toMatchObject({ by: 'routing', retried: true, assigneeId: ana.user.id });
    expect(a.data.summary).toMatch(/^Assigned to Ana by round robin\. It had waited \d+ min for someone eligible\.$/);
  });

  it('conversations of a deactivated user are routed to someone else', async () => {
    const { routeBacklog } = await import('../../src/features/inbox/commands/routeBacklog.js');
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana' });
    const ben = await member(t, s.a, { name: 'Ben' });
    await routing(s, { kind: 'users', strategy: 'round_robin', userIds: [ana.user.id, ben.user.id] });
    const id = await deliver(t, s.conn, rawMail({ subject: 'Leaving soon' }));
    expect((await conversationRow(t, id)).assignee_id).toBe(ana.user.id);
    await ok(t, s.a.token, 'POST', `/api/v1/users/${ana.user.id}/deactivate`);
    expect((await conversationRow(t, id)).assignee_id).toBeNull();
    expect(await routeBacklog(t.env, s.inbox.id)).toMatchObject({ assigned: 1, waiting: 0 });
    expect((await conversationRow(t, id)).assignee_id).toBe(ben.user.id);
  });
});

describe('replies: nothing dropped, Outlook threads too', () => {
  it('reply-all keeps every To/Cc but the inbox\'s own addresses; the customer\'s answer with our address only on Cc or Bcc threads back in', async () => {
    const s = await inboxFixture(t);
    // A second team address of the same inbox, with an internationalised domain.
    await insertConnection(t, { accountId: s.a.accountId, userId: s.a.adminUserId, type: 'team', address: `help-${uniq()}@xn--bcher-kva.example`, inboxId: s.inbox.id });
    const second = (await t.database.db.selectFrom('connections').select('address').where('inbox_id', '=', s.inbox.id).where('id', '!=', s.conn.id).executeTakeFirstOrThrow()).address;
    const secondUnicode = second.replace('xn--bcher-kva', 'Bücher');
    const ana = await member(t, s.a, { name: 'Ana Alves' });
    const first = `o-${uniq()}@example.org`;
    const id = await deliver(
      t,
      s.conn,
      rawMail({
        id: first,
        subject: 'Refund for order 7',
        to: `Support <${s.conn.address.toUpperCase()}>, Dan <dan@example.org>`,
        cc: `=?utf-8?q?Help?= <${secondUnicode}>, eve@example.org, DAN@example.org`,
        headers: { 'Thread-Index': 'Acmbd/xqs4+R1bMMQCalXkts/1063A==', 'Thread-Topic': 'Refund for order 7' },
      }),
    );
    const sent = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply_all', text: 'Refunded.' });
    expect(sent.to.map((m: any) => m.address)).toEqual(['carla@example.org']);
    expect(sent.cc.map((m: any) => m.address.toLowerCase())).toEqual(['dan@example.org', 'eve@example.org']);

    // The queued message: References, In-Reply-To, the parent's Thread-Index extended by one child block, its Thread-Topic.
    const row = await t.database.db.selectFrom('outbox').selectAll().where('id', '=', sent.outboxId).executeTakeFirstOrThrow();
    const mail = await parseMessage(await ingestorOf(t).blobs.get(row.raw_sha256));
    expect(mail.inReplyTo).toBe(first);
    expect(mail.references).toEqual([first]);
    const field = (k: string) => mail.headerFields.find((f) => f.key === k)?.value ?? null;
    expect(field('thread-topic')).toBe('Refund for order 7');
    const index = decodeThreadIndex(field('thread-index'))!;
    expect(index.guid).toBe('b38f91d5b30c4026a55e4b6cff5d3adc');
    expect(index.children).toHaveLength(1);

    // Carla answers Dan, with our address on Cc only (and no Re: subject, so only the reply token can thread it).
    const onCc = await deliver(t, s.conn, rawMail({ subject: 'Something else entirely', to: 'dan@example.org', cc: s.conn.address, inReplyTo: sent.messageId, references: `<${first}> <${sent.messageId}>`, body: 'Thanks, got it.' }));
    expect(onCc).toBe(id);
    // ... and once with our address on Bcc (the headers do not name us at all); her mail client kept only our Message-ID.
    const onBcc = await deliver(t, s.conn, rawMail({ subject: 'Fwd: note', to: 'dan@example.org', inReplyTo: sent.messageId, body: 'FYI Dan.' }));
    expect(onBcc).toBe(id);
    const th = await thread(s.a.token, id);
    expect(th.messages.map((m: any) => m.kind)).toEqual(['normal', 'normal', 'normal']);
    expect((await conversationRow(t, id)).deleted_at).toBeNull();
  });

  it('a new conversation without Thread-Index or Thread-Topic: the reply starts an index and takes the base subject as topic', async () => {
    const s = await inboxFixture(t);
    const ana = await member(t, s.a, { name: 'Ana Alves' });
    const id = await deliver(t, s.conn, rawMail({ subject: 'AW: Lieferung' }));
    const sent = await ok(t, ana.token, 'POST', `/api/v1/conversations/${id}/replies`, { mode: 'reply', text: 'Ja.' });
    const row = await t.database.db.selectFrom('outbox').selectAll().where('id', '=', sent.outboxId).executeTakeFirstOrThrow();
    const mail = await parseMessage(await ingestorOf(t).blobs.get(row.raw_sha256));
    const field = (k: string) => mail.headerFields.find((f) => f.key === k)?.value ?? null;
    expect(field('thread-topic')).toBe('Lieferung');
    const index = decodeThreadIndex(field('thread-index'))!;
    expect(index.children).toHaveLength(0);
    expect(Math.abs(index.at - Date.now())).toBeLessThan(60_000);
  });
});
