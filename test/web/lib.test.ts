/** Table tests for the web app's pure helpers (provider presets, sender-name preview). */
import { describe, expect, test } from 'vitest';
import { domainOf, guessFor, providerFor } from '../../web/src/lib/providers.js';
import { fromLine, senderDisplayName } from '../../web/src/lib/senderName.js';
import { firstNameOf } from '../../src/shared/sender-name.js';

describe('provider presets from the address', () => {
  test.each([
    ['ada@gmail.com', 'imap.gmail.com', 993, 'tls', 'smtp.gmail.com', 465, 'tls'],
    ['Ada@GoogleMail.com ', 'imap.gmail.com', 993, 'tls', 'smtp.gmail.com', 465, 'tls'],
    ['ada@outlook.com', 'outlook.office365.com', 993, 'tls', 'smtp-mail.outlook.com', 587, 'starttls'],
    ['ada@hotmail.com', 'outlook.office365.com', 993, 'tls', 'smtp-mail.outlook.com', 587, 'starttls'],
    ['ada@yahoo.com', 'imap.mail.yahoo.com', 993, 'tls', 'smtp.mail.yahoo.com', 465, 'tls'],
    ['ada@icloud.com', 'imap.mail.me.com', 993, 'tls', 'smtp.mail.me.com', 587, 'starttls'],
    ['ada@me.com', 'imap.mail.me.com', 993, 'tls', 'smtp.mail.me.com', 587, 'starttls'],
    ['ada@fastmail.com', 'imap.fastmail.com', 993, 'tls', 'smtp.fastmail.com', 465, 'tls'],
  ])('%s', (address, imapHost, imapPort, imapTls, smtpHost, smtpPort, smtpTls) => {
    const p = providerFor(address);
    expect(p).not.toBeNull();
    expect(p!.imap).toEqual({ host: imapHost, port: imapPort, tls: imapTls });
    expect(p!.smtp).toEqual({ host: smtpHost, port: smtpPort, tls: smtpTls });
  });

  test.each(['ada@acme.example', 'ada@gmail.com.evil.example', 'gmail.com', '', 'ada@'])('no preset for %j', (address) => {
    expect(providerFor(address)).toBeNull();
  });

  test('unknown domains get first guesses for Advanced', () => {
    expect(domainOf('  Ada@Acme.Example ')).toBe('acme.example');
    expect(guessFor('ada@acme.example')).toEqual({ imap: { host: 'imap.acme.example', port: 993, tls: 'tls' }, smtp: { host: 'smtp.acme.example', port: 587, tls: 'starttls' } });
    expect(guessFor('nothing').imap.host).toBe('');
  });
});

describe('sender name preview', () => {
  const ctx = { agentName: 'Ada  Lovelace', agentEmail: 'ada@acme.example', inboxName: 'Support', companyName: 'Acme, Inc.', custom: null as string | null };
  test.each([
    ['agent_at_inbox', null, 'Ada at Support', 'Ada at Support <support@acme.example>'],
    ['inbox', null, 'Support', 'Support <support@acme.example>'],
    ['company', null, 'Acme, Inc.', '"Acme, Inc." <support@acme.example>'],
    ['custom', 'Acme Help Desk', 'Acme Help Desk', 'Acme Help Desk <support@acme.example>'],
    ['custom', '   ', 'Support', 'Support <support@acme.example>'],
    ['custom', 'The "Best" Team', 'The "Best" Team', '"The \\"Best\\" Team" <support@acme.example>'],
    // the preview fills placeholders as the server does (the hand-written browser copy did not)
    ['custom', '{agent_first_name} from {company_name}', 'Ada from Acme, Inc.', '"Ada from Acme, Inc." <support@acme.example>'],
  ])('%s %j', (mode, custom, name, line) => {
    const display = senderDisplayName(mode, { ...ctx, custom });
    expect(display).toBe(name);
    expect(fromLine(display, 'support@acme.example')).toBe(line);
  });
  test('first names', () => {
    expect(firstNameOf(' Grace Brewster Hopper ')).toBe('Grace');
    expect(firstNameOf('Cher')).toBe('Cher');
  });
});
