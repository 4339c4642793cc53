/**
 * What a message from an enrolled contact (or a colleague) means for the enrollment, from what ingest
 * already decided (its classification kind, reasons and bounce report) plus our own absence phrases:
 *
 *   reply          a person answered: unenroll
 *   out_of_office  an absence notice (even without Auto-Submitted, as Outlook sends some): pause
 *   bounce         a hard bounce of our message: unenroll; a delay report or soft bounce is ignored
 *   ignore         other automatic mail (read receipts, lists, our own loops)
 *
 * Pure.
 */
import type { MessageKind } from '../../ingest/domain/classify.js';
import { looksOutOfOffice } from './out-of-office.js';

export type ReplyMeaning = 'reply' | 'out_of_office' | 'bounce' | 'ignore';

export interface ReplyFacts {
  kind: MessageKind;
  reasons: readonly string[];
  bounce?: { permanent: boolean; type: 'failure' | 'delay' | 'complaint' } | undefined;
  subject: string;
  text: string;
}

export function classifyReply(f: ReplyFacts): ReplyMeaning {
  switch (f.kind) {
    case 'bounce':
      return f.bounce?.permanent ? 'bounce' : 'ignore';
    case 'loop':
    case 'list':
    // A challenge-response filter holds the email until someone proves to be a person: not a reply,
    // not a bounce (the address works), not an absence.
    case 'challenge':
      return 'ignore';
    case 'auto_reply':
      // Read receipts and success reports are automatic but say nothing about an absence.
      if (f.reasons.includes('read_receipt')) return 'ignore';
      return 'out_of_office';
    case 'normal':
      // Auto-replies without any header (some Outlook/Exchange setups): the words decide.
      return looksOutOfOffice(f.subject, f.text) && looksAutomatic(f.subject) ? 'out_of_office' : 'reply';
  }
}

/**
 * A person's reply may mention being out of the office ("I was out of office last week, yes let's talk").
 * Without headers, only a subject that reads as an automatic notice counts.
 */
function looksAutomatic(subject: string): boolean {
  return /^\s*(automatic reply|auto(matic)?[- ]?reply|autoreply|out of (the )?office|abwesend|abwesenheitsnotiz|abwesenheit|automatische antwort|réponse automatique|absent|respuesta automática|fuera de la oficina|risposta automatica|fuori ufficio|resposta automática|ausente|automatisch antwoord|afwezig|niet aanwezig)\b/i.test(
    subject,
  );
}
