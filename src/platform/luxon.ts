/**
 * luxon (time zones, business days), loaded at its first use: every command loads the features' wiring,
 * and through it the sequences' schedule, but few ever compute a date (`mailroom import` does not), so
 * loading luxon with the module cost each of them ~20 ms of start-up (issue 18). Synchronous, through
 * require() (luxon's CommonJS build, one file), so the pure rules that use it stay synchronous; every
 * user goes through here, so a process holds one copy of luxon.
 */
import { createRequire } from 'node:module';
import type * as Luxon from 'luxon';

let loaded: typeof Luxon | undefined;

export function luxon(): typeof Luxon {
  loaded ??= createRequire(import.meta.url)('luxon') as typeof Luxon;
  return loaded;
}
