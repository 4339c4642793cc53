/**
 * The ordered inbound filter pipeline (in the manner of zammad's channel filters): small pure
 * steps over the normalised message, each adjusting one decision and saying why in the trace.
 *
 *   1. loop          our own notification came back: ignore it and stop
 *   2. auto_reply    out-of-office and other automatic replies: keep, but open nothing and wake nobody
 *   2b. challenge    a challenge-response filter asking us to verify: the same (a person decides
 *                    whether to answer it; nothing is sent automatically)
 *   3. bounce        delivery failures and complaints: keep, record the bounce for the outbox/contact
 *   4. sender_list   allow and deny lists of addresses or @domains: a denied sender is ignored and the
 *                    pipeline stops. Matching is the inbox rule (domain/inbox/sender-lists.ts): the
 *                    most specific entry wins, an address beats a domain, a tie goes to allow
 *   5. list_mail     mailing lists and bulk mail: never answered automatically
 *   6. follow_up     is this a response to an earlier conversation? (a hint for threading and for
 *                    reopening; threading decides)
 *
 * "ignore" never means "lose": the caller keeps the raw message (and may show it in an
 * "ignored" view); it only stops the message from opening conversations, notifying people,
 * being logged on timelines, or being answered.
 */
import { checkSender, type ListEntry } from './sender-lists.js';
import { classifyMessage, type BounceInfo, type Classification } from '../../ingest/domain/classify.js';
import type { ParsedMessage } from '../../../mail/message/message.js';
import { readReplyToken } from '../../../mail/message/reply-token.js';
import { isResponseSubject } from '../../ingest/domain/subject.js';

export interface InboundFilterContext {
  /** This account's id (loop detection). */
  accountId?: string;
  /** Addresses (`ann@example.com`) or domains (`@example.com`, also matching subdomains) let through despite a deny entry. */
  allow?: readonly string[];
  /** Addresses or domains whose mail is ignored. */
  deny?: readonly string[];
  /** Reply-token secret(s), so the follow-up hint can recognise our own Message-IDs. */
  replyTokenSecret?: string | readonly string[];
}

export interface InboundDecision {
  /** `accept`: process normally (within the flags below); `ignore`: keep the raw message, do nothing with it. */
  action: 'accept' | 'ignore';
  classification: Classification;
  /** May start a new conversation / timeline entry when threading finds none. */
  openConversation: boolean;
  /** May reopen a closed conversation and mark it unread. */
  reopenConversation: boolean;
  /** May notify agents or the user. */
  notify: boolean;
  /** May Mailroom send an automatic answer (acknowledgement, our own out-of-office). */
  autoRespond: boolean;
  /** Set for bounces and complaints: which recipients failed, and the bounced Message-ID. */
  bounce: BounceInfo | null;
  sender: { address: string | null; allowListed: boolean; denyListed: boolean; matchedEntry: string | null };
  followUp: { likely: boolean; signals: string[] };
  /** One line per filter that changed something, in order. */
  trace: Array<{ filter: InboundFilterName; note: string }>;
  /** The filter that ended the pipeline early, if any. */
  stoppedBy: InboundFilterName | null;
}

export type InboundFilterName = 'loop' | 'auto_reply' | 'challenge' | 'bounce' | 'sender_list' | 'list_mail' | 'follow_up';

export type FilterInput = Pick<
  ParsedMessage,
  | 'messageId'
  | 'inReplyTo'
  | 'references'
  | 'subject'
  | 'from'
  | 'sender'
  | 'to'
  | 'text'
  | 'attachments'
  | 'reports'
  | 'headers'
  | 'headerFields'
>;

/** A filter returns the decision (changed or not) and whether the pipeline stops here. */
export type InboundFilter = (msg: FilterInput, ctx: InboundFilterContext, decision: InboundDecision) => { decision: InboundDecision; stop?: boolean };

const note = (d: InboundDecision, filter: InboundFilterName, text: string): InboundDecision => ({ ...d, trace: [...d.trace, { filter, note: text }] });

export const loopFilter: InboundFilter = (_msg, _ctx, d) => {
  if (d.classification.kind !== 'loop') return { decision: d };
  const out = note(
    { ...d, action: 'ignore', openConversation: false, reopenConversation: false, notify: false, autoRespond: false },
    'loop',
    'our own notification came back (X-Mailroom-Loop)',
  );
  return { decision: out, stop: true };
};

export const autoReplyFilter: InboundFilter = (_msg, _ctx, d) => {
  if (d.classification.kind !== 'auto_reply') return { decision: d };
  return {
    decision: note(
      { ...d, openConversation: false, reopenConversation: false, notify: false, autoRespond: false },
      'auto_reply',
      `automatic reply (${d.classification.reasons.filter((r) => !r.startsWith('precedence')).join(', ') || 'signals'}): attach to its conversation if any, open nothing`,
    ),
  };
};

export const challengeFilter: InboundFilter = (_msg, _ctx, d) => {
  if (d.classification.kind !== 'challenge') return { decision: d };
  const service = d.classification.challenge?.service;
  return {
    decision: note(
      { ...d, openConversation: false, reopenConversation: false, notify: false, autoRespond: false },
      'challenge',
      `challenge-response request${service ? ` (${service})` : ''}: the recipient's filter holds the message until the sender verifies; attach to its conversation if any, open nothing`,
    ),
  };
};

export const bounceFilter: InboundFilter = (_msg, _ctx, d) => {
  const b = d.classification.bounce;
  if (d.classification.kind !== 'bounce' || !b) return { decision: d };
  return {
    decision: note(
      { ...d, bounce: b, openConversation: false, reopenConversation: false, notify: false, autoRespond: false },
      'bounce',
      `${b.type} report (${b.source}) for ${b.recipients.map((r) => r.address).join(', ') || 'unknown recipients'}`,
    ),
  };
};

export const senderListFilter: InboundFilter = (msg, ctx, d) => {
  const address = msg.from?.address ?? null;
  if (!address || (!ctx.allow?.length && !ctx.deny?.length)) return { decision: { ...d, sender: { ...d.sender, address } } };
  // One rule for allow/deny matching in the product: the inbox's (most specific entry wins, a tie goes to allow).
  const entries: ListEntry[] = [...(ctx.allow ?? []).map((pattern) => ({ list: 'allow' as const, pattern })), ...(ctx.deny ?? []).map((pattern) => ({ list: 'deny' as const, pattern }))];
  const verdict = checkSender(entries, address);
  if (verdict.verdict === 'deny') {
    const out = note(
      {
        ...d,
        action: 'ignore',
        openConversation: false,
        reopenConversation: false,
        notify: false,
        autoRespond: false,
        sender: { address, allowListed: false, denyListed: true, matchedEntry: verdict.entry!.pattern },
      },
      'sender_list',
      `sender ${address} is on the deny list (${verdict.entry!.pattern})`,
    );
    return { decision: out, stop: true };
  }
  if (verdict.verdict === 'allow') {
    return {
      decision: note(
        { ...d, sender: { address, allowListed: true, denyListed: false, matchedEntry: verdict.entry!.pattern } },
        'sender_list',
        `sender ${address} is on the allow list (${verdict.entry!.pattern})`,
      ),
    };
  }
  return { decision: { ...d, sender: { ...d.sender, address } } };
};

export const listMailFilter: InboundFilter = (_msg, _ctx, d) => {
  if (d.classification.kind !== 'list') return { decision: d };
  return { decision: note({ ...d, autoRespond: false }, 'list_mail', `mailing list or bulk mail${d.classification.listId ? ` (${d.classification.listId})` : ''}: never answered automatically`) };
};

export const followUpFilter: InboundFilter = (msg, ctx, d) => {
  const signals: string[] = [];
  const ids = [...(msg.inReplyTo ? [msg.inReplyTo] : []), ...[...msg.references].reverse()];
  if (ctx.replyTokenSecret && readReplyToken(ids, ctx.replyTokenSecret)) signals.push('reply_token');
  if (msg.inReplyTo) signals.push('in_reply_to');
  if (msg.references.length > 0) signals.push('references');
  if (isResponseSubject(msg.subject)) signals.push('response_subject');
  if (signals.length === 0) return { decision: d };
  return { decision: note({ ...d, followUp: { likely: true, signals } }, 'follow_up', `looks like a follow-up (${signals.join(', ')})`) };
};

export const INBOUND_FILTERS: ReadonlyArray<readonly [InboundFilterName, InboundFilter]> = [
  ['loop', loopFilter],
  ['auto_reply', autoReplyFilter],
  ['challenge', challengeFilter],
  ['bounce', bounceFilter],
  ['sender_list', senderListFilter],
  ['list_mail', listMailFilter],
  ['follow_up', followUpFilter],
];

/** Classifies the message and runs the filters in order. Pure. */
export function runInboundFilters(msg: FilterInput, ctx: InboundFilterContext = {}, filters = INBOUND_FILTERS): InboundDecision {
  const classification = classifyMessage(msg, ctx.accountId !== undefined ? { accountId: ctx.accountId } : {});
  let decision: InboundDecision = {
    action: 'accept',
    classification,
    openConversation: true,
    reopenConversation: true,
    notify: true,
    autoRespond: !classification.suppressAutoResponse,
    bounce: null,
    sender: { address: msg.from?.address ?? null, allowListed: false, denyListed: false, matchedEntry: null },
    followUp: { likely: false, signals: [] },
    trace: [],
    stoppedBy: null,
  };
  for (const [name, filter] of filters) {
    const r = filter(msg, ctx, decision);
    decision = r.decision;
    if (r.stop) return { ...decision, stoppedBy: name };
  }
  return decision;
}
