/**
 * The core of writing an email from a contact's record, shared by sending and replacing a scheduled
 * email: pick the from-address (own personal connections only), resolve recipients, render tokens (a
 * missing value is refused or filled from its fallback, never sent raw), add the signature, apply the
 * default font, rewrite links and add the pixel when tracking is on, decide logging (account rule, never-log
 * lists, create-contacts setting), and queue it in the durable outbox, all inside the caller's transaction.
 */
import { addressKey } from '../connections/index.js';
import { AppError, invalidRequest, notFound, permissionDenied } from '../../platform/errors.js';
import { limitsFor, undoSendSecondsOf } from '../accounts/index.js';
import { insertOpenPixel, rewriteLinksForTracking } from './domain/links.js';
import { decideLogging, isNeverLogged, mailKey } from './domain/logging.js';
import { attachmentProblem, checkSendAt, MAX_RECIPIENTS, renderPersonalEmail } from './domain/compose.js';
import { describeTokenProblems, tokenValues, type TokenValues } from './domain/tokens.js';
import { htmlToText } from './domain/text.js';
import { signTrackingId } from '../../platform/security/tracking-signature.js';
import { newId } from '../../platform/database/ids.js';
import type { ConnectionsTable } from '../../platform/database/schema.js';
import { queueEmail, undoHoldMs, type UndoSendInput } from '../outbox/index.js';
import { recordAudit } from '../../platform/audit.js';
import { loadUsableTemplate } from './templates.js';
import type { Actor, CommandEnv, Executor } from '../../platform/context.js';
import { emailsOf, loadContact } from '../crm/index.js';
import { contactsByAddress, createContactFromEmail, loadLogContext, loadEmailPreferences, ownPersonalConnections, trackingBase, trackingSecret } from './queries.js';

export interface ComposeAttachment {
  filename: string;
  contentType?: string;
  /** The file, base64-encoded. */
  contentBase64: string;
}

export interface ComposeEmailInput extends UndoSendInput {
  /** One of your own personal connections; default: your default "from". */
  fromConnectionId?: string;
  /** Default: the contact's primary email. */
  to?: string[];
  cc?: string[];
  bcc?: string[];
  /** A saved template (yours or shared): its subject and body are used where these are not given. */
  templateId?: string;
  /** May hold personalization tokens: {{ contact.firstName | "there" }}. Required unless a template gives it. */
  subject?: string;
  /** HTML body; may hold personalization tokens. Required unless a template gives it. */
  html?: string;
  attachments?: ComposeAttachment[];
  /** Add your signature below the body (default true). */
  includeSignature?: boolean;
  /** Override your defaults for this email. */
  log?: boolean;
  trackOpens?: boolean;
  trackClicks?: boolean;
  /** ISO time to send at; omitted or past: now. */
  sendAt?: string | null;
}

export interface ComposeDeps {
  /** Stores the built MIME durably (the blob store); resolves with its sha256. */
  putBlob: (raw: Buffer) => Promise<string>;
  /** HMAC secret of reply tokens in our Message-IDs (the engine's `replyTokenSecret`). */
  replyTokenSecret: string;
}

export interface ComposedEmail {
  personalEmailId: string;
  outboxId: string;
  createdContactIds: string[];
  /** Undo send: the email waits until then (epoch ms); absent: it leaves at once (or is scheduled). */
  undoUntil?: number;
}

function recipients(list: readonly string[] | undefined, field: string): Array<{ address: string; key: string }> {
  const out: Array<{ address: string; key: string }> = [];
  for (const raw of list ?? []) {
    const r = addressKey(raw);
    if (!r.ok) throw invalidRequest(`${raw.trim() || '(empty)'} in ${field}: ${r.message}`, { field });
    if (!out.some((x) => x.key === r.key)) out.push({ address: r.display, key: r.key });
  }
  return out;
}

async function chooseConnection(trx: Executor, actor: Actor, id: string | undefined): Promise<ConnectionsTable> {
  const own = await ownPersonalConnections(trx, actor.accountId, actor.user.id);
  if (id) {
    const c = own.find((x) => x.id === id);
    if (!c) throw notFound('Connection');
    return c;
  }
  const c = own[0];
  if (!c) throw new AppError('no_personal_connection', 409, 'Connect your mailbox first (Settings → Email → Connect personal email): email from the CRM is sent through your own mailbox.');
  return c;
}

/** The personalization values of a contact (with their company) and the sender. */
export async function tokenValuesFor(
  trx: Executor,
  actor: Actor,
  contact: { first_name: string; last_name: string; company_id: string | null },
  contactEmail: string | null,
  senderEmail: string,
): Promise<TokenValues> {
  const company = contact.company_id ? await trx.selectFrom('companies').select(['id', 'name']).where('id', '=', contact.company_id).where('account_id', '=', actor.accountId).executeTakeFirst() : undefined;
  const companyDomain = company ? ((await trx.selectFrom('company_domains').select('domain').where('company_id', '=', company.id).orderBy('domain').executeTakeFirst())?.domain ?? null) : null;
  return tokenValues({
    contact: { firstName: contact.first_name, lastName: contact.last_name, email: contactEmail },
    company: company ? { name: company.name, domain: companyDomain } : null,
    sender: { name: actor.user.name, email: senderEmail },
  });
}

export async function composeAndQueue(trx: Executor, env: CommandEnv, actor: Actor, contactId: string, input: ComposeEmailInput, deps: ComposeDeps): Promise<ComposedEmail> {
  const now = env.now();
  const contact = await loadContact(trx, actor.accountId, contactId);
  const template = input.templateId ? await loadUsableTemplate(trx, actor, input.templateId, 'template') : null;
  const connection = await chooseConnection(trx, actor, input.fromConnectionId);
  const contactEmails = (await emailsOf(trx, actor.accountId, [contact.id])).get(contact.id) ?? [];
  const primary = contactEmails[0] ?? null;

  let to = recipients(input.to, 'to');
  if (!input.to) {
    if (!primary) throw invalidRequest(`${contact.first_name || 'This contact'} has no email address. Add one to the contact, or enter the recipient in "to".`, { field: 'to' });
    to = [{ address: primary.email, key: primary.email_key }];
  }
  const cc = recipients(input.cc, 'cc');
  const bcc = recipients(input.bcc, 'bcc');
  const all = [...to, ...cc, ...bcc];
  if (!all.length) throw invalidRequest('Add at least one recipient.', { field: 'to' });
  if (all.length > MAX_RECIPIENTS) throw invalidRequest(`An email from the CRM can have at most ${MAX_RECIPIENTS} recipients.`, { field: 'to' });

  const schedule = checkSendAt(input.sendAt ? Date.parse(input.sendAt) : null, now);
  if (!schedule.ok) throw invalidRequest(schedule.message, { field: 'sendAt' });
  // Undo send holds a "send now" email only: a scheduled one is not delayed again.
  const holdMs = schedule.sendAt ? 0 : undoHoldMs(undoSendSecondsOf(actor.user), input);

  const plan = limitsFor(actor.plan);
  const files = (input.attachments ?? []).map((a, i) => {
    if (!/^[A-Za-z0-9+/=\s]*$/.test(a.contentBase64)) throw invalidRequest(`Attachment ${a.filename || i + 1} is not base64.`, { field: `attachments.${i}.contentBase64` });
    const content = Buffer.from(a.contentBase64, 'base64');
    return { filename: a.filename.replace(/[\r\n"\\/]/g, '_').slice(0, 255) || `attachment-${i + 1}`, contentType: a.contentType, content, size: content.length };
  });
  const tooBig = attachmentProblem(files, plan.maxAttachmentBytes);
  if (tooBig) throw new AppError('attachments_too_large', 413, tooBig, { field: 'attachments', maxBytes: plan.maxAttachmentBytes });

  const prefs = await loadEmailPreferences(trx, actor.user.id);
  const trackOpens = input.trackOpens ?? prefs.trackOpens;
  const trackClicks = input.trackClicks ?? prefs.trackClicks;
  if (!plan.trackingEnabled && (input.trackOpens === true || input.trackClicks === true)) {
    throw permissionDenied(`Open and click tracking is not in the ${plan.name} plan. Send without tracking, or ask an admin about upgrading.`);
  }
  const opens = plan.trackingEnabled && trackOpens;
  const clicks = plan.trackingEnabled && trackClicks;

  // Tokens: contact, company, sender.
  const values = await tokenValuesFor(trx, actor, contact, primary?.email ?? to[0]?.address ?? null, connection.address);
  const signature = input.includeSignature === false ? null : (prefs.signature ?? connection.signature);
  const subjectSource = input.subject ?? template?.subject;
  const htmlSource = input.html ?? template?.html;
  if (subjectSource === undefined) throw invalidRequest('Write a subject, or choose a template.', { field: 'subject' });
  if (htmlSource === undefined) throw invalidRequest('Write the email, or choose a template.', { field: 'html' });
  const rendered = renderPersonalEmail({ subject: subjectSource, html: htmlSource, values, signature, font: prefs.font });
  if (rendered.problems.length) {
    throw new AppError('unresolved_tokens', 422, describeTokenProblems(rendered.problems), { problems: rendered.problems });
  }
  const subjectText = rendered.subject.replace(/[\r\n]+/g, ' ').trim().slice(0, 998);
  if (!subjectText) throw invalidRequest('Add a subject.', { field: 'subject' });

  // Logging: the account rule, never-log lists, this email's choice.
  const ctx = await loadLogContext(trx, actor.accountId, actor.user.id);
  const others = all.filter((r) => !ctx.ownAddresses.has(r.key));
  const known = await contactsByAddress(trx, actor.accountId, others.map((r) => r.key));
  const userLogs = input.log ?? prefs.log;
  const decision = decideLogging({
    situation: 'crm_send',
    rule: ctx.rule,
    createContacts: ctx.createContacts,
    neverLog: ctx.neverLog,
    userLogs,
    participants: others.map((r) => ({ address: r.address, contactId: known.get(r.key)?.contactId ?? null })),
  });
  const logContactIds = new Set(decision.logTo.map((p) => p.contactId!));
  const createdContactIds: string[] = [];
  if (decision.log) {
    for (const address of decision.create) {
      const c = await createContactFromEmail(trx, { accountId: actor.accountId, ownerId: actor.user.id, address, now });
      logContactIds.add(c.contactId);
      if (c.created) createdContactIds.push(c.contactId);
    }
  }
  // The record it was written from is associated too, unless its address is on a never-log list.
  const recordAddress = primary?.email ?? null;
  if (userLogs && decision.why !== 'never_log' && !(recordAddress && isNeverLogged(recordAddress, ctx.neverLog))) logContactIds.add(contact.id);

  // Body: default font, then tracking (the text part keeps the real links).
  const personalEmailId = newId('pem');
  const secret = trackingSecret(env);
  const base = trackingBase(env);
  let html = rendered.html;
  const text = htmlToText(html);
  const links: Array<{ id: string; position: number; url: string }> = [];
  if (clicks) {
    const r = rewriteLinksForTracking(
      html,
      (l) => {
        const id = newId('lnk');
        links.push({ id, position: l.position, url: l.url });
        return `${base}c/${signTrackingId('click', id, secret)}`;
      },
      { trackingBase: base },
    );
    html = r.html;
  }
  if (opens) html = insertOpenPixel(html, `${base}o/${signTrackingId('open', personalEmailId, secret)}`);

  const domain = mailKey(connection.address).split('@')[1] ?? env.settings.inboundDomain;
  const recipientsMeta = { to: to.map((r) => r.address), cc: cc.map((r) => r.address), bcc: bcc.map((r) => r.address) };
  const queued = await queueEmail(
    trx,
    { now, putBlob: deps.putBlob, replyTokenSecret: deps.replyTokenSecret, messageIdDomain: domain },
    {
      connection,
      userId: actor.user.id,
      email: {
        from: { name: actor.user.name, address: connection.address },
        to: to.map((r) => ({ address: r.address })),
        cc: cc.map((r) => ({ address: r.address })),
        bcc: bcc.map((r) => ({ address: r.address })),
        subject: subjectText,
        html,
        text,
        attachments: files.map((f) => ({ filename: f.filename, content: f.content, ...(f.contentType ? { contentType: f.contentType } : {}) })),
      },
      sendAt: schedule.sendAt ?? undefined,
      holdMs,
      meta: { feature: 'personal_email', personalEmailId, recipients: recipientsMeta },
    },
  );
  await trx
    .insertInto('personal_emails')
    .values({
      id: personalEmailId,
      account_id: actor.accountId,
      user_id: actor.user.id,
      connection_id: connection.id,
      outbox_id: queued.outboxId,
      conversation_id: null,
      contact_id: contact.id,
      company_id: contact.company_id,
      subject: subjectText,
      logged: logContactIds.size > 0 ? 1 : 0,
      log_contact_ids: JSON.stringify([...logContactIds]),
      track_opens: opens ? 1 : 0,
      track_clicks: clicks ? 1 : 0,
      link_count: links.length,
      replaced_by: null,
      created_at: now,
    })
    .execute();
  for (let i = 0; i < links.length; i += 200) {
    const part = links.slice(i, i + 200);
    await trx
      .insertInto('tracking_links')
      .values(part.map((l) => ({ id: l.id, account_id: actor.accountId, personal_email_id: personalEmailId, position: l.position, url: l.url })))
      .execute();
  }
  await recordAudit(trx, {
    accountId: actor.accountId,
    actorUserId: actor.user.id,
    action: schedule.sendAt ? 'personal_email.scheduled' : 'personal_email.queued',
    targetType: 'personal_email',
    targetId: personalEmailId,
    data: { contactId: contact.id, connectionId: connection.id, recipients: all.length, logged: logContactIds.size > 0, trackOpens: opens, trackClicks: clicks, attachments: files.length },
    at: now,
  });
  return { personalEmailId, outboxId: queued.outboxId, createdContactIds, ...(queued.undoUntil ? { undoUntil: queued.undoUntil } : {}) };
}
