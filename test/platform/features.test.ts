/**
 * The wiring in src/app/features.ts: what runs when is what its header comment says, every job kind has
 * one handler, and no feature registers itself by being imported.
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { FEATURES, featureReactions, jobHandlersFor, inboundWiring } from '../../src/app/features.js';
import type { Ingestor } from '../../src/features/ingest/index.js';

const header = fs.readFileSync(path.resolve('src/app/features.ts'), 'utf8').split('*/')[0]!;

/** The numbered lines of one "When ..." paragraph of the header: [feature, hook name]. */
function listed(paragraphStart: string): Array<[string, string]> {
  const from = header.indexOf(paragraphStart);
  expect(from, `header has a paragraph starting "${paragraphStart}"`).toBeGreaterThan(-1);
  const rest = header.slice(from).split('\n').slice(1);
  const out: Array<[string, string]> = [];
  for (const line of rest) {
    const m = line.match(/^\s*\*\s+\d+\.\s+(\w+)\s+(\w+):/);
    if (!m && /^\s*\*\s{6,}\S/.test(line)) continue; // the previous item's second line
    if (!m) break;
    out.push([m[1]!, m[2]!]);
  }
  return out;
}

const declared = (key: 'messageStored' | 'conversationsMerged' | 'sendFinished' | 'userStateChanged' | 'teamDeleting' | 'contactDeleting') =>
  FEATURES.flatMap((f) => (f[key] ? [[f.name, (f[key] as { name: string }).name] as [string, string]] : []));

describe('src/app/features.ts', () => {
  it.each([
    ['When a message is stored', 'messageStored'],
    ['When two conversations are merged', 'conversationsMerged'],
    ['When a send finishes', 'sendFinished'],
    ['When a user is deactivated', 'userStateChanged'],
    ['Before a team is deleted', 'teamDeleting'],
    ['Before a contact is deleted', 'contactDeleting'],
  ] as const)('"%s" in the header lists exactly the %s reactions, in order', (paragraph, key) => {
    expect(listed(paragraph)).toEqual(declared(key));
    expect(featureReactions()[key].length).toBe(declared(key).length);
  });

  it('every job kind has exactly one handler', () => {
    const handlers = jobHandlersFor({} as Ingestor);
    expect(Object.keys(handlers).sort()).toEqual(
      [
        'connection.forwarding_test',
        'connection.oauth_device_poll',
        'connection.oauth_refresh',
        'connection.sync',
        'inbox.route_backlog',
        'inbox.snooze_ended',
        'inbox.sla_check',
        'notifications.email',
        'outbox.append_sent',
        'outbox.send',
        'personal_email.tracking_digest',
        'sequences.tick',
        'events.publish',
        'webhooks.deliver',
        'webhooks.cleanup',
      ].sort(),
    );
  });

  it('inbound SMTP asks personal for logging addresses and lets connections consume forwarding checks', () => {
    const w = inboundWiring();
    expect(w.recipients).toHaveLength(1);
    expect(w.intercepts).toHaveLength(1);
  });

  it('no module registers into a process-global list: the old registries are gone', () => {
    const offenders: string[] = [];
    const walk = (dir: string) => {
      for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) walk(p);
        else if (p.endsWith('.ts') && /\b(onMessageStored|onSendOutcome|addRecipientResolver|onUserStateChange|onContactDeleting|addDemoStep|registerJob)\s*\(/.test(fs.readFileSync(p, 'utf8'))) offenders.push(p);
      }
    };
    walk(path.resolve('src'));
    expect(offenders).toEqual([]);
  });
});
