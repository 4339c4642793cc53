import { invalidRequest } from '../../../platform/errors.js';

/** What a send request says about undo send (replies in inbox, one-to-one email in personal). */
export interface UndoSendInput {
  /** Hold the email for my undo-send delay (my user setting, default 10 s) so I can undo it. The web app sends true. */
  undo?: boolean;
  /** Hold it exactly this many seconds (0 to 30), overriding my setting. Neither given: it leaves at once. */
  undoDelaySeconds?: number;
}

/** Undo send: how long (ms) to hold an email before the outbox takes it, given the sender's setting (seconds). */
export function undoHoldMs(settingSeconds: number, input: UndoSendInput): number {
  if (input.undoDelaySeconds !== undefined && input.undoDelaySeconds !== null) {
    const s = input.undoDelaySeconds;
    if (!Number.isInteger(s) || s < 0 || s > 30) throw invalidRequest('undoDelaySeconds is a whole number of seconds from 0 to 30.', { field: 'undoDelaySeconds' });
    return s * 1000;
  }
  return input.undo ? settingSeconds * 1000 : 0;
}
