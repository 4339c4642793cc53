/**
 * A real SMTP submission server for tests (smtp-server), paired with a test Dovecot:
 *
 * - AUTH PLAIN / LOGIN against the Dovecot instance's users and current passwords (wrong ones get 535);
 *   plain-text auth without TLS is allowed (tests connect with `ignoreTLS` / `tls: 'none'`).
 * - Every recipient is accepted (it stands in for a provider's SMTP relay); recipients that are users of
 *   the Dovecot instance get the message in their INBOX over LMTP before the server answers 250.
 * - Every accepted message is recorded in `messages` (envelope, authenticated user, raw bytes).
 *
 *   const smtp = await startSubmissionServer({ dovecot });
 *   await nodemailer.createTransport(smtp.smtpOptions('alice@example.test')).sendMail({...});
 *   const [m] = await smtp.waitForMessages(1);
 */
import { SMTPServer, type SMTPServerAddress, type SMTPServerOptions } from 'smtp-server';
import type SMTPTransport from 'nodemailer/lib/smtp-transport/index.js';
import { ImapFlow } from 'imapflow';
import type { TestDovecot } from './dovecot.js';

export interface SubmittedMessage {
  /** 1, 2, 3... in order of acceptance. */
  seq: number;
  envelope: { mailFrom: string; rcptTo: string[] };
  /** The AUTH username the client logged in with. */
  authUser: string;
  /** The message exactly as the client sent it (dot-unstuffed). */
  raw: Buffer;
  /** Recipients that were Dovecot users and got the message over LMTP. */
  deliveredTo: string[];
  receivedAt: Date;
}

/** A failure to answer instead of accepting, for testing retries and error handling. */
export interface InjectedFailure {
  /** SMTP reply code, e.g. 451 (temporary) or 550 / 554 (permanent). */
  code: number;
  message?: string;
  /** When to answer it. Default 'data' (after the whole message was sent). */
  stage?: 'mail' | 'rcpt' | 'data';
}

export interface StartSubmissionOptions {
  dovecot: TestDovecot;
  /** Which recipients to accept at RCPT (others get 550). Default: all. */
  acceptRecipient?: (address: string) => boolean;
  /** Maximum message size in bytes (larger gets 552). Default 50 MB. */
  maxSize?: number;
  /** Offer STARTTLS with smtp-server's built-in self-signed certificate. Default false. */
  starttls?: boolean;
  /**
   * OAuth (issue 14): also offer AUTH XOAUTH2, accepting an access token when this returns true for the
   * username and token (e.g. the test OAuth server's userinfo says the token belongs to that address).
   */
  verifyAccessToken?: (username: string, accessToken: string) => Promise<boolean>;
  /**
   * File a copy of every accepted message in this folder of the authenticated user (IMAP APPEND, before
   * answering 250), as Gmail and Microsoft 365 do with what their users send. Default: no copy.
   */
  fileSentIn?: string;
}

export interface TestSubmissionServer {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** Accepted messages, oldest first. */
  readonly messages: SubmittedMessage[];
  /** Resolves with the messages once at least `count` were accepted (counted from the start or the last clear()). */
  waitForMessages(count: number, timeoutMs?: number): Promise<SubmittedMessage[]>;
  /** Resolves with the first accepted message matching `predicate` (already there or arriving later). */
  waitForMessage(predicate: (m: SubmittedMessage) => boolean, timeoutMs?: number): Promise<SubmittedMessage>;
  /** Answer the next transaction with this failure instead (queue several by calling again). */
  failNext(failure: InjectedFailure): void;
  /** nodemailer options to submit as a Dovecot user (password defaults to the user's current one). */
  smtpOptions(user: string, password?: string): SMTPTransport.Options;
  /** Forget recorded messages. */
  clear(): void;
  stop(): Promise<void>;
}

const HOST = '127.0.0.1' as const;

function smtpError(code: number, message: string): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export async function startSubmissionServer(opts: StartSubmissionOptions): Promise<TestSubmissionServer> {
  const { dovecot } = opts;
  const messages: SubmittedMessage[] = [];
  const failures: InjectedFailure[] = [];
  const waiters = new Set<() => void>();
  let seq = 0;

  function takeFailure(stage: 'mail' | 'rcpt' | 'data'): InjectedFailure | undefined {
    const f = failures[0];
    if (f && (f.stage ?? 'data') === stage) return failures.shift();
    return undefined;
  }

  const options: SMTPServerOptions = {
    name: 'submission.mailroom-test.local',
    banner: 'Mailroom test submission server',
    secure: false,
    authOptional: false,
    allowInsecureAuth: true,
    authMethods: opts.verifyAccessToken ? ['PLAIN', 'LOGIN', 'XOAUTH2'] : ['PLAIN', 'LOGIN'],
    disabledCommands: opts.starttls ? [] : ['STARTTLS'],
    size: opts.maxSize ?? 50 * 1024 * 1024,
    logger: false,
    closeTimeout: 2_000, // stop() must not wait 30 s for clients that keep connections open
    onAuth(auth, _session, cb) {
      const user = auth.username ?? '';
      if ((auth.method === 'PLAIN' || auth.method === 'LOGIN') && dovecot.checkPassword(user, auth.password ?? '')) {
        return cb(null, { user });
      }
      if (auth.method === 'XOAUTH2' && opts.verifyAccessToken) {
        opts.verifyAccessToken(user, auth.accessToken ?? '').then(
          (ok) => (ok ? cb(null, { user }) : cb(null, { data: { status: '401', schemes: 'bearer' } })),
          () => cb(smtpError(454, '4.7.0 Temporary authentication failure')),
        );
        return;
      }
      return cb(smtpError(535, '5.7.8 Authentication credentials invalid'));
    },
    onMailFrom(_address: SMTPServerAddress, _session, cb) {
      const f = takeFailure('mail');
      if (f) return cb(smtpError(f.code, f.message ?? 'Injected failure at MAIL FROM'));
      cb();
    },
    onRcptTo(address: SMTPServerAddress, _session, cb) {
      const f = takeFailure('rcpt');
      if (f) return cb(smtpError(f.code, f.message ?? 'Injected failure at RCPT TO'));
      if (opts.acceptRecipient && !opts.acceptRecipient(address.address)) {
        return cb(smtpError(550, `5.1.1 Recipient not accepted here: ${address.address}`));
      }
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', (e) => cb(e));
      stream.on('end', () => {
        if ((stream as { sizeExceeded?: boolean }).sizeExceeded) {
          return cb(smtpError(552, '5.3.4 Message exceeds the size limit'));
        }
        const f = takeFailure('data');
        if (f) return cb(smtpError(f.code, f.message ?? 'Injected failure after DATA'));
        const raw = Buffer.concat(chunks);
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : '';
        const rcptTo = session.envelope.rcptTo.map((r) => r.address);
        const local = rcptTo.filter((r) => dovecot.hasUser(r));
        const delivered = local.length > 0 ? dovecot.deliver(local, raw, { from: mailFrom || 'mailer-daemon@mailroom-test.local' }) : Promise.resolve();
        const authUser = String(session.user ?? '');
        const deliver = opts.fileSentIn && dovecot.hasUser(authUser) ? delivered.then(() => fileCopy(authUser, opts.fileSentIn!, raw)) : delivered;
        deliver.then(
          () => {
            seq += 1;
            messages.push({
              seq,
              envelope: { mailFrom, rcptTo },
              authUser: String(session.user ?? ''),
              raw,
              deliveredTo: local,
              receivedAt: new Date(),
            });
            for (const w of [...waiters]) w();
            cb(null, `2.0.0 Ok: queued as test-${seq}`);
          },
          (e: unknown) => cb(smtpError(451, `4.3.0 Local delivery failed, try again later: ${e instanceof Error ? e.message : String(e)}`)),
        );
      });
    },
  };

  async function fileCopy(user: string, folder: string, raw: Buffer): Promise<void> {
    const client = new ImapFlow(dovecot.imapOptions(user));
    client.on('error', () => undefined);
    await client.connect();
    try {
      await client.append(folder, raw, ['\\Seen']);
    } finally {
      await client.logout().catch(() => client.close());
    }
  }

  const server = new SMTPServer(options);
  server.on('error', () => undefined); // client-side errors (resets, bad commands) are not test failures
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(0, HOST, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const addr = server.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;

  function waitUntil<T>(check: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
    const now = check();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const waiter = () => {
        const v = check();
        if (v === undefined) return;
        waiters.delete(waiter);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`submission server: timed out after ${timeoutMs} ms waiting for ${what} (have ${messages.length} message(s))`));
      }, timeoutMs);
      waiters.add(waiter);
    });
  }

  let stopped = false;
  return {
    host: HOST,
    port,
    messages,
    waitForMessages(count, timeoutMs = 10_000) {
      return waitUntil(() => (messages.length >= count ? [...messages] : undefined), timeoutMs, `${count} message(s)`);
    },
    waitForMessage(predicate, timeoutMs = 10_000) {
      return waitUntil(() => messages.find(predicate), timeoutMs, 'a matching message');
    },
    failNext(failure) {
      failures.push(failure);
    },
    smtpOptions(user, password) {
      const pass = password ?? dovecot.passwordOf(user);
      if (pass === undefined) throw new Error(`smtpOptions: no such Dovecot test user ${user}`);
      return { host: HOST, port, secure: false, ignoreTLS: !opts.starttls, auth: { user, pass }, logger: false };
    },
    clear() {
      messages.length = 0;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

