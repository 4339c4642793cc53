/**
 * Challenge-response anti-spam messages (Boxbe, Spam Arrest, Mailblocks, ChoiceMail, Sendio,
 * cPanel's BoxTrapper, TMDA and the like): the recipient's filter holds our message and asks us to
 * prove we are a person (click a link, reply) before it delivers it. That is neither a bounce (the
 * address works; the message is waiting, not refused) nor an out-of-office: it is its own kind,
 * `challenge`, and the decision to answer it is a person's.
 *
 * Recognised by a known service (sender domain, a header naming the software, its name in the
 * subject) together with any verification wording, or, for unknown services, by verification
 * wording together with the message being held until the sender confirms. Pure.
 */
import type { RawHeaderField } from '../../../mail/message/header-block.js';
import type { MailAddress } from '../../../mail/message/message.js';

export interface ChallengeInput {
  subject: string;
  text: string;
  from: MailAddress | null;
  headerFields: readonly RawHeaderField[];
}

export interface ChallengeHit {
  /** The service when known (`boxbe`, `spamarrest`...), else null. */
  service: string | null;
  why: string[];
}

/** Known services: name, sender domains, and the words that name them in headers, subject or text. */
const SERVICES: ReadonlyArray<{ name: string; domains: RegExp; words: RegExp }> = [
  { name: 'boxbe', domains: /(?:^|\.)boxbe\.com$/, words: /\bboxbe\b/i },
  { name: 'spamarrest', domains: /(?:^|\.)spamarrest\.com$/, words: /\bspam ?arrest\b/i },
  { name: 'mailblocks', domains: /(?:^|\.)mailblocks\.com$/, words: /\bmailblocks\b/i },
  { name: 'choicemail', domains: /(?:^|\.)digiportal\.com$/, words: /\bchoice ?mail\b/i },
  { name: 'sendio', domains: /(?:^|\.)sendio\.com$/, words: /\bsendio\b/i },
  { name: 'boxtrapper', domains: /$^/, words: /\bboxtrapper\b/i },
  { name: 'tmda', domains: /$^/, words: /\btmda\b/i },
  { name: 'qurb', domains: /(?:^|\.)qurb\.com$/, words: /\bqurb\b/i },
];

const VERIFY =
  /\b(?:verify|confirm|prove)\b.{0,60}\b(?:you are|you're|that you|yourself|your (?:identity|e-?mail|message|address)|(?:a )?(?:real )?(?:person|human))\b|\bsender verification\b|\bverification (?:required|request|needed)\b|\b(?:guest|approved|allowed|safe)[ -]?(?:senders? )?list\b|\bwaiting list\b|\bnot a (?:robot|spammer|machine)\b/i;
const HELD =
  /\b(?:held|hold|pending|waiting|quarantined|queued|has not (?:yet )?been delivered|will not be delivered|won't be delivered)\b.{0,120}\b(?:until|unless|pending|awaiting|once|after|before)\b.{0,120}\b(?:verif\w*|confirm\w*|approv\w*|respond\w*|repl(?:y|ies)|click\w*)\b/i;
const HEADER_KEYS = ['x-mailer', 'x-delivery-agent', 'x-boxbe-service', 'x-challenge', 'user-agent'];

/**
 * Cheap necessary conditions for VERIFY and HELD: a word of each alternative they require, found by a
 * plain case-insensitive search. A text without them cannot match, so neither it is collapsed nor the
 * regexes run on it (the two `.{0,60}`/`.{0,120}` patterns over 16 KB of every message, and the collapse,
 * were a quarter of classification's time on the shared corpus; 1 message in 15 passes these).
 */
const VERIFY_WORDS = /verif|confirm|prove|robot|spammer|machine/i;
const LIST_WORDS = /guest|approved|allowed|safe|waiting/i;
const HELD_FIRST = /held|hold|pending|waiting|quarantined|queued|delivered/i;
const HELD_SECOND = /until|unless|pending|awaiting|once|after|before/i;
const HELD_THIRD = /verif|confirm|approv|respond|repl|click/i;
const mayVerify = (text: string) => VERIFY_WORDS.test(text) || (/list/i.test(text) && LIST_WORDS.test(text));
const mayHold = (text: string) => HELD_THIRD.test(text) && HELD_FIRST.test(text) && HELD_SECOND.test(text);

export function detectChallenge(msg: ChallengeInput): ChallengeHit | null {
  const head = msg.text.slice(0, 16 * 1024);
  const textMayVerify = mayVerify(head);
  const textMayHold = mayHold(head);
  let collapsed: string | null = null;
  const text = () => (collapsed ??= head.replace(/\s+/g, ' '));
  const verify = VERIFY.test(msg.subject) || (textMayVerify && VERIFY.test(text()));
  const held = (textMayHold && HELD.test(text())) || HELD.test(msg.subject);
  // Neither: no service or wording can make it a challenge.
  if (!verify && !held) return null;
  const domain = (msg.from?.address.split('@')[1] ?? '').toLowerCase();
  const headerText = msg.headerFields
    .filter((f) => HEADER_KEYS.includes(f.key) || f.key.startsWith('x-boxbe') || f.key.startsWith('x-spamarrest') || f.key.startsWith('x-tmda'))
    .map((f) => `${f.key}: ${f.value}`)
    .join('\n');
  for (const s of SERVICES) {
    const named = s.domains.test(domain) || s.words.test(headerText) || s.words.test(msg.subject) || s.words.test(msg.from?.name ?? '');
    if (named) return { service: s.name, why: [`challenge:${s.name}`] };
  }
  if (verify && held) {
    // Wording alone decides here; a service named in the text only labels it.
    const named = SERVICES.find((s) => s.words.test(text()));
    return named ? { service: named.name, why: [`challenge:${named.name}`] } : { service: null, why: ['challenge:verify_to_deliver'] };
  }
  return null;
}
