/**
 * The authorization policies of every feature, as one table: who (role, seat, state, permissions) × action
 * (× subject) → allowed, or the refusal the API shows (code, status, message). The rules are pure, so the
 * table runs without a database. `authorize` throws exactly the refusal `decide` returns; `can` is its
 * boolean.
 */
import { describe, expect, it } from 'vitest';
import { authorize, can, decide, type Action } from '../../src/platform/authorize.js';
import type { Actor } from '../../src/platform/context.js';
import { AppError } from '../../src/platform/errors.js';
import { accountsPolicies } from '../../src/features/accounts/index.js';
import { crmPolicies } from '../../src/features/crm/index.js';
import { inboxPolicies } from '../../src/features/inbox/index.js';
import { personalPolicies } from '../../src/features/personal/index.js';
import { connectionPolicies } from '../../src/features/connections/index.js';
import { sequencesPolicies } from '../../src/features/sequences/index.js';

interface Who {
  role?: 'super_admin' | 'admin' | 'member';
  seat?: 'paid' | 'free' | 'view_only';
  state?: 'active' | 'deactivated' | 'removed';
  accountAccess?: boolean;
}

const ME = 'u-me';
const OTHER = 'u-other';

function actor(who: Who): Actor {
  return {
    accountId: 'a1',
    plan: 'professional',
    user: {
      id: ME,
      account_id: 'a1',
      email: 'me@example.com',
      email_key: 'me@example.com',
      name: 'Me',
      password_hash: null,
      role: who.role ?? 'member',
      seat: who.seat ?? 'paid',
      state: who.state ?? 'active',
      perm_personal_email: 1,
      perm_account_access: who.accountAccess ? 1 : 0,
      perm_availability: 0,
      primary_team_id: null,
      availability: 'available',
      working_hours: null,
      settings: '{}',
      created_at: 0,
      state_changed_at: null,
    },
  };
}

const admin: Who = { role: 'admin' };
const superAdmin: Who = { role: 'super_admin' };
const member: Who = { role: 'member' };
const viewOnly: Who = { role: 'member', seat: 'view_only' };
const adminViewOnly: Who = { role: 'admin', seat: 'view_only' };
const withAccess: Who = { role: 'member', accountAccess: true };
const deactivatedWithAccess: Who = { role: 'member', accountAccess: true, state: 'deactivated' };
const deactivatedSuperAdmin: Who = { role: 'super_admin', state: 'deactivated' };

const ALLOWED = 'allowed' as const;
const denied = (message: string) => ({ code: 'permission_denied', status: 403, message });
const hidden = (what: string) => ({ code: 'not_found', status: 404, message: `${what} was not found. Check the id; it may have been deleted or belong to another account.` });

type Expected = typeof ALLOWED | { code: string; status: number; message: string };
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Row = [label: string, who: Who, action: Action<any>, subject: unknown, expected: Expected];

const onlyAdmins = (doing: string) => denied(`Only admins can ${doing}. Ask an admin of your account.`);
const inboxAccess = (doing: string) => denied(`${doing} needs the account-access permission. Ask an admin.`);

const TABLE: Row[] = [
  // accounts
  ['admin adds a user', admin, accountsPolicies.addUser, undefined, ALLOWED],
  ['super admin adds a user', superAdmin, accountsPolicies.addUser, undefined, ALLOWED],
  ['member adds a user', member, accountsPolicies.addUser, undefined, onlyAdmins('add users')],
  ['member with account access adds a user', withAccess, accountsPolicies.addUser, undefined, onlyAdmins('add users')],
  ['admin creates a team', admin, accountsPolicies.createTeam, undefined, ALLOWED],
  ['member creates a team', member, accountsPolicies.createTeam, undefined, onlyAdmins('create teams')],
  ['admin renames a team', admin, accountsPolicies.renameTeam, undefined, ALLOWED],
  ['member renames a team', member, accountsPolicies.renameTeam, undefined, onlyAdmins('rename teams')],
  ['member with account access renames a team', withAccess, accountsPolicies.renameTeam, undefined, onlyAdmins('rename teams')],
  ['admin deletes a team', admin, accountsPolicies.deleteTeam, undefined, ALLOWED],
  ['member deletes a team', member, accountsPolicies.deleteTeam, undefined, onlyAdmins('delete teams')],
  ['admin reads the audit log', admin, accountsPolicies.readAuditLog, undefined, ALLOWED],
  ['view-only admin reads the audit log', adminViewOnly, accountsPolicies.readAuditLog, undefined, ALLOWED],
  ['member reads the audit log', member, accountsPolicies.readAuditLog, undefined, onlyAdmins('read the audit log')],
  ['member creates a token for self', member, accountsPolicies.createTokenFor, { userId: ME }, ALLOWED],
  ['member creates a token for another', member, accountsPolicies.createTokenFor, { userId: OTHER }, denied('Only admins can create tokens for other users.')],
  ['admin creates a token for another', admin, accountsPolicies.createTokenFor, { userId: OTHER }, ALLOWED],
  ['member revokes own token', member, accountsPolicies.revokeToken, { userId: ME }, ALLOWED],
  ["member revokes another's token", member, accountsPolicies.revokeToken, { userId: OTHER }, hidden('API token')],
  ["admin revokes another's token", admin, accountsPolicies.revokeToken, { userId: OTHER }, ALLOWED],
  // crm
  ['paid member changes the CRM', member, crmPolicies.write, undefined, ALLOWED],
  ['free member changes the CRM', { role: 'member', seat: 'free' }, crmPolicies.write, undefined, ALLOWED],
  ['view-only member changes the CRM', viewOnly, crmPolicies.write, undefined, denied('View-only users can look at contacts and companies but cannot change them. Ask an admin for a paid or free seat.')],
  ['view-only admin changes the CRM', adminViewOnly, crmPolicies.write, undefined, denied('View-only users can look at contacts and companies but cannot change them. Ask an admin for a paid or free seat.')],
  ['admin deletes a company', admin, crmPolicies.deleteCompany, undefined, ALLOWED],
  ['member deletes a company', member, crmPolicies.deleteCompany, undefined, onlyAdmins('delete companies')],
  ['member deletes own contact', member, crmPolicies.deleteContact, { ownerId: ME }, ALLOWED],
  ['member deletes a contact without owner', member, crmPolicies.deleteContact, { ownerId: null }, ALLOWED],
  ["member deletes another's contact", member, crmPolicies.deleteContact, { ownerId: OTHER }, denied('Only admins and the owner of this contact can delete it. Ask its owner or an admin.')],
  ["admin deletes another's contact", admin, crmPolicies.deleteContact, { ownerId: OTHER }, ALLOWED],
  // inbox
  ['member creates an inbox', member, inboxPolicies.create, undefined, inboxAccess('Creating inboxes')],
  ['member with account access creates an inbox', withAccess, inboxPolicies.create, undefined, ALLOWED],
  ['view-only member with account access creates an inbox', { ...viewOnly, accountAccess: true }, inboxPolicies.create, undefined, ALLOWED],
  ['super admin creates an inbox (always has account access)', superAdmin, inboxPolicies.create, undefined, ALLOWED],
  ['admin without account access creates an inbox', admin, inboxPolicies.create, undefined, inboxAccess('Creating inboxes')],
  ['deactivated member with account access creates an inbox', deactivatedWithAccess, inboxPolicies.create, undefined, inboxAccess('Creating inboxes')],
  ['deactivated super admin creates an inbox', deactivatedSuperAdmin, inboxPolicies.create, undefined, inboxAccess('Creating inboxes')],
  ['member renames an inbox', member, inboxPolicies.change, undefined, inboxAccess('Changing inboxes')],
  ['member with account access renames an inbox', withAccess, inboxPolicies.change, undefined, ALLOWED],
  ['member deletes an inbox', member, inboxPolicies.delete, undefined, inboxAccess('Deleting inboxes')],
  ['member with account access deletes an inbox', withAccess, inboxPolicies.delete, undefined, ALLOWED],
  ['member changes members and routing', member, inboxPolicies.manageMembersAndRouting, undefined, inboxAccess('Changing inbox members and routing')],
  ['member with account access changes members and routing', withAccess, inboxPolicies.manageMembersAndRouting, undefined, ALLOWED],
  // personal
  ["admin reads the account's logging settings", admin, personalPolicies.readAccountEmailSettings, undefined, ALLOWED],
  ["member reads the account's logging settings", member, personalPolicies.readAccountEmailSettings, undefined, onlyAdmins("see the account's email logging settings")],
  ["member changes the account's logging settings", member, personalPolicies.changeAccountEmailSettings, undefined, onlyAdmins('change how email is logged for the account')],
  ["admin changes the account's logging settings", superAdmin, personalPolicies.changeAccountEmailSettings, undefined, ALLOWED],
  ['member saves a shared template', member, personalPolicies.shareNewTemplate, undefined, denied('Only admins can share templates with the whole account. Save it for yourself, or ask an admin to share it.')],
  ['admin saves a shared template', admin, personalPolicies.shareNewTemplate, undefined, ALLOWED],
  ["member changes a template's sharing", member, personalPolicies.changeTemplateSharing, undefined, denied('Only admins can share templates with the whole account, or stop sharing them.')],
  ["admin changes a template's sharing", admin, personalPolicies.changeTemplateSharing, undefined, ALLOWED],
  ['member changes own private template', member, personalPolicies.editTemplate, { ownerUserId: ME, shared: false, doing: 'change' }, ALLOWED],
  ["member changes another's shared template", member, personalPolicies.editTemplate, { ownerUserId: OTHER, shared: true, doing: 'change' }, denied('Only the person who saved this template (or an admin, when it is shared) can change it. Save a copy of your own instead.')],
  ["member deletes another's shared template", member, personalPolicies.editTemplate, { ownerUserId: OTHER, shared: true, doing: 'delete' }, denied('Only the person who saved this template (or an admin, when it is shared) can delete it.')],
  ["admin changes another's shared template", admin, personalPolicies.editTemplate, { ownerUserId: OTHER, shared: true, doing: 'change' }, ALLOWED],
  ["admin changes another's private template", admin, personalPolicies.editTemplate, { ownerUserId: OTHER, shared: false, doing: 'change' }, denied('Only the person who saved this template (or an admin, when it is shared) can change it. Save a copy of your own instead.')],
  // connections
  ['admin sees every personal connection', admin, connectionPolicies.seeAllPersonal, undefined, ALLOWED],
  ['member sees every personal connection', member, connectionPolicies.seeAllPersonal, undefined, denied('Only admins see the personal connections of other users.')],
  ['member views own personal connection', member, connectionPolicies.view, { type: 'personal', userId: ME }, ALLOWED],
  ["member views another's personal connection", member, connectionPolicies.view, { type: 'personal', userId: OTHER }, hidden('Connection')],
  ["member views another's team connection", member, connectionPolicies.view, { type: 'team', userId: OTHER }, ALLOWED],
  ["admin views another's personal connection", admin, connectionPolicies.view, { type: 'personal', userId: OTHER }, ALLOWED],
  // sequences
  ['member uses sequences', member, sequencesPolicies.use, undefined, ALLOWED],
  ['view-only member uses sequences', viewOnly, sequencesPolicies.use, undefined, denied('A view-only seat cannot send sequences. Ask an admin for a paid or free seat.')],
  ['member edits own sequence', member, sequencesPolicies.editSequence, { ownerUserId: ME }, ALLOWED],
  ["member edits another's sequence", member, sequencesPolicies.editSequence, { ownerUserId: OTHER }, denied('Only the person who created this sequence (or an admin) can change it. Copy it to make your own.')],
  ["admin edits another's sequence", admin, sequencesPolicies.editSequence, { ownerUserId: OTHER }, ALLOWED],
  ['member sees own enrollment', member, sequencesPolicies.seeEnrollment, { userId: ME }, ALLOWED],
  ["member sees another's enrollment", member, sequencesPolicies.seeEnrollment, { userId: OTHER }, hidden('Enrollment')],
  ["admin sees another's enrollment", admin, sequencesPolicies.seeEnrollment, { userId: OTHER }, ALLOWED],
];

describe('policies: who may do what', () => {
  it.each(TABLE)('%s', (_label, who, action, subject, expected) => {
    const a = actor(who);
    const refusal = (decide as (actor: Actor, action: Action<unknown>, subject?: unknown) => AppError | null)(a, action, subject);
    if (expected === ALLOWED) {
      expect(refusal).toBeNull();
      expect((can as (actor: Actor, action: Action<unknown>, subject?: unknown) => boolean)(a, action, subject)).toBe(true);
      return;
    }
    expect(refusal).toBeInstanceOf(AppError);
    expect({ code: refusal!.code, status: refusal!.status, message: refusal!.message }).toEqual(expected);
    expect((can as (actor: Actor, action: Action<unknown>, subject?: unknown) => boolean)(a, action, subject)).toBe(false);
    expect(() => (authorize as (actor: Actor, action: Action<unknown>, subject?: unknown) => void)(a, action, subject)).toThrow(refusal!);
  });

  it('covers every action of every feature, and names are unique', () => {
    const all = [accountsPolicies, crmPolicies, inboxPolicies, personalPolicies, connectionPolicies, sequencesPolicies].flatMap((p) => Object.values(p) as Array<Action<unknown>>);
    const names = all.map((a) => a.name);
    expect(new Set(names).size).toBe(names.length);
    const tested = new Set(TABLE.map((r) => r[2].name));
    expect(names.filter((n) => !tested.has(n))).toEqual([]);
  });

  it('types the subject of each action', () => {
    const a = actor(member);
    authorize(a, crmPolicies.write);
    authorize(a, crmPolicies.deleteContact, { ownerId: ME });
    // @ts-expect-error an action about a contact needs the contact
    expect(() => authorize(a, crmPolicies.deleteContact)).toThrow();
    // @ts-expect-error an action about nothing takes no subject
    authorize(a, crmPolicies.write, { ownerId: ME });
  });
});
