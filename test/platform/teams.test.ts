/**
 * Teams renamed and deleted through the API (issue 21, item 5), on SQLite or PostgreSQL: clear error codes;
 * a deleted team leaves nothing pointing at it: members leave it and are told, primary teams move on,
 * restricted inboxes drop it (conversations of people who lose access unassigned), routing rules that
 * named it route to the rest of their pool or are disabled, audited, their editors told.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { insertConnection } from '../support/connections.js';
import { deliver, inboxFixture, member, ok, rawMail, uniq } from '../inbox/support.js';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => {
  await t?.close();
});

describe('teams: rename', () => {
  it('renames; a taken name is team_name_taken, an unknown or foreign team not_found, members are refused', async () => {
    const s = await inboxFixture(t);
    const a = await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: 'Tier 1' });
    await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: 'Tier 2' });
    const renamed = await ok(t, s.a.token, 'PATCH', `/api/v1/teams/${a.id}`, { name: '  First line ' });
    expect(renamed).toMatchObject({ id: a.id, name: 'First line' });
    expect((await ok(t, s.a.token, 'GET', `/api/v1/teams/${a.id}`)).name).toBe('First line');

    const taken = await t.api(s.a.token, 'PATCH', `/api/v1/teams/${a.id}`, { name: 'Tier 2' });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error).toMatchObject({ code: 'team_name_taken', message: expect.stringContaining('Tier 2') });
    expect((await t.api(s.a.token, 'PATCH', `/api/v1/teams/${a.id}`, { name: '   ' })).json().error.code).toBe('invalid_request');

    const other = await t.account('enterprise');
    for (const [token, id] of [
      [s.a.token, 'team_nope'],
      [other.token, a.id],
    ] as const) {
      for (const method of ['GET', 'PATCH', 'DELETE']) {
        const r = await t.api(token, method, `/api/v1/teams/${id}`, method === 'PATCH' ? { name: 'x' } : undefined);
        expect(r.statusCode, `${method} ${id}`).toBe(404);
        expect(r.json().error.code).toBe('not_found');
      }
    }
    const ana = await member(t, s.a, { name: 'Ana' });
    for (const [method, body] of [['PATCH', { name: 'Mine' }], ['DELETE', undefined]] as const) {
      const r = await t.api(ana.token, method, `/api/v1/teams/${a.id}`, body);
      expect(r.statusCode).toBe(403);
      expect(r.json().error.code).toBe('permission_denied');
    }
    const audit = await t.database.db.selectFrom('audit_events').select(['action', 'data']).where('target_id', '=', a.id).execute();
    expect(audit.map((e) => e.action)).toEqual(['team.created', 'team.renamed']);
  });
});

describe('teams: delete', () => {
  it('leaves nothing pointing at the team, retargets or disables routing rules, unassigns who lost access, and tells everyone', async () => {
    const s = await inboxFixture(t, { access: 'restricted' });
    const db = t.database.db;
    const doomed = await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: `Night shift ${uniq()}` });
    const kept = await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: `Day shift ${uniq()}` });
    const nina = await member(t, s.a, { name: 'Nina Night', teamIds: [doomed.id] });
    const bob = await member(t, s.a, { name: 'Bob Both', teamIds: [doomed.id, kept.id], primaryTeamId: doomed.id });
    const dora = await member(t, s.a, { name: 'Dora Day', teamIds: [kept.id] });
    // A second admin set the rules: they are told when the team goes.
    const editor = await member(t, s.a, { name: 'Eddie Editor', role: 'admin' });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { teamId: doomed.id });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { teamId: kept.id });
    await ok(t, s.a.token, 'POST', `/api/v1/inboxes/${s.inbox.id}/members`, { userId: s.a.adminUserId });
    const sales = await insertConnection(t, { accountId: s.a.accountId, userId: s.a.adminUserId, type: 'team', address: `sales-${uniq()}@acme.test`, inboxId: s.inbox.id });
    const billing = await insertConnection(t, { accountId: s.a.accountId, userId: s.a.adminUserId, type: 'team', address: `billing-${uniq()}@acme.test`, inboxId: s.inbox.id });
    // support@: only the doomed team (disabled); sales@: the doomed and the kept team (retargeted);
    // billing@: contact owner with the doomed team as fallback (fallback goes).
    await ok(t, editor.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/routing/${s.conn.id}`, { rule: { kind: 'users', strategy: 'round_robin', teamIds: [doomed.id] } });
    await ok(t, editor.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/routing/${sales.id}`, { rule: { kind: 'users', strategy: 'least_open', teamIds: [doomed.id, kept.id], perUserCap: 5 } });
    await ok(t, editor.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/routing/${billing.id}`, { rule: { kind: 'contact_owner', fallback: { kind: 'users', strategy: 'round_robin', teamIds: [doomed.id] } } });

    const ninas = await deliver(t, s.conn, rawMail({ subject: 'For Nina' }));
    const bobs = await deliver(t, s.conn, rawMail({ subject: 'For Bob' }));
    const doras = await deliver(t, s.conn, rawMail({ subject: 'For Dora' }));
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${ninas}/assign`, { assigneeId: nina.user.id });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${bobs}/assign`, { assigneeId: bob.user.id });
    await ok(t, s.a.token, 'POST', `/api/v1/conversations/${doras}/assign`, { assigneeId: dora.user.id });

    const r = await ok(t, s.a.token, 'DELETE', `/api/v1/teams/${doomed.id}`);
    expect(r).toMatchObject({ id: doomed.id, name: doomed.name });
    expect([...r.memberIds].sort()).toEqual([nina.user.id, bob.user.id].sort());
    const byKind = (k: string) => r.adjustments.filter((x: { kind: string }) => x.kind === k);
    expect(byKind('inbox_member_removed')).toEqual([expect.objectContaining({ inboxId: s.inbox.id, conversationIds: [ninas] })]);
    expect(byKind('routing_rule_disabled').map((x: { connectionId: string }) => x.connectionId).sort()).toEqual([s.conn.id, billing.id].sort());
    expect(byKind('routing_rule_retargeted')).toEqual([expect.objectContaining({ connectionId: sales.id, summary: expect.stringContaining(doomed.name) })]);

    // Nothing points at the team any more.
    expect((await t.api(s.a.token, 'GET', `/api/v1/teams/${doomed.id}`)).json().error.code).toBe('not_found');
    expect(await db.selectFrom('team_members').select('user_id').where('team_id', '=', doomed.id).execute()).toEqual([]);
    expect(await db.selectFrom('inbox_members').select('member_id').where('member_id', '=', doomed.id).execute()).toEqual([]);
    const rules = await ok(t, s.a.token, 'GET', `/api/v1/inboxes/${s.inbox.id}/routing`);
    expect(JSON.stringify(rules)).not.toContain(doomed.id);
    const stored = await db.selectFrom('routing_rules').select(['connection_id', 'rule']).where('inbox_id', '=', s.inbox.id).execute();
    const ruleOf = (id: string) => JSON.parse(stored.find((x) => x.connection_id === id)!.rule);
    expect(ruleOf(s.conn.id)).toEqual({ kind: 'none' });
    expect(ruleOf(sales.id)).toEqual({ kind: 'users', strategy: 'least_open', userIds: [], teamIds: [kept.id], perUserCap: 5 });
    expect(ruleOf(billing.id)).toEqual({ kind: 'contact_owner', fallback: { kind: 'none' } });
    const bobNow = await ok(t, s.a.token, 'GET', `/api/v1/users/${bob.user.id}`);
    expect(bobNow).toMatchObject({ teamIds: [kept.id], primaryTeamId: kept.id });
    expect((await ok(t, s.a.token, 'GET', `/api/v1/users/${nina.user.id}`))).toMatchObject({ teamIds: [], primaryTeamId: null });

    // Nina was a member only through the team: her conversation is unassigned, with the reason; Bob and Dora keep theirs.
    const thread = await ok(t, s.a.token, 'GET', `/api/v1/conversations/${ninas}`);
    expect(thread.assignee).toBeNull();
    expect(thread.activity.at(-1).data).toMatchObject({ by: 'team_deleted', previousAssigneeId: nina.user.id });
    expect((await ok(t, s.a.token, 'GET', `/api/v1/conversations/${bobs}`)).assignee.id).toBe(bob.user.id);
    expect((await ok(t, s.a.token, 'GET', `/api/v1/conversations/${doras}`)).assignee.id).toBe(dora.user.id);
    expect((await t.api(nina.token, 'GET', `/api/v1/conversations/${ninas}`)).statusCode).toBe(404);

    // Told: the members (not the admin who deleted it), and the rules' editor once per rule.
    const notes = async (token: string) => (await ok(t, token, 'GET', '/api/v1/notifications')).notifications as Array<{ kind: string; message: string; data: Record<string, unknown> }>;
    expect((await notes(nina.token)).filter((n) => n.kind === 'team_deleted')).toEqual([expect.objectContaining({ message: expect.stringContaining(doomed.name) })]);
    expect((await notes(bob.token)).some((n) => n.kind === 'team_deleted')).toBe(true);
    expect((await notes(dora.token)).some((n) => n.kind === 'team_deleted')).toBe(false);
    expect((await notes(s.a.token)).some((n) => n.kind === 'team_deleted' || n.kind === 'routing_rule_changed')).toBe(false);
    const editorNotes = (await notes(editor.token)).filter((n) => n.kind === 'routing_rule_changed');
    expect(editorNotes.map((n) => n.data.connectionId).sort()).toEqual([s.conn.id, sales.id, billing.id].sort());
    expect(editorNotes.find((n) => n.data.connectionId === s.conn.id)!.message).toMatch(/is off now/);

    // Audited, and the name is free again.
    const audit = await db.selectFrom('audit_events').select(['action', 'data', 'target_id']).where('account_id', '=', s.a.accountId).where('created_at', '>=', 0).execute();
    expect(audit.filter((e) => e.action === 'team.deleted')).toHaveLength(1);
    expect(audit.filter((e) => e.action === 'inbox.routing_rule_set' && JSON.parse(e.data).reason === 'team_deleted')).toHaveLength(3);
    await ok(t, s.a.token, 'POST', '/api/v1/teams', { name: doomed.name });
    // A rule can no longer name it.
    const again = await t.api(s.a.token, 'PUT', `/api/v1/inboxes/${s.inbox.id}/routing/${s.conn.id}`, { rule: { kind: 'users', strategy: 'round_robin', teamIds: [doomed.id] } });
    expect(again.statusCode).toBe(400);
  });
});
