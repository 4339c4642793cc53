/**
 * Inbound SMTP (smtp-server): receives mail for generated forwarding addresses (team email connected by
 * forwarding) and per-user BCC logging addresses. Not an open relay: any other recipient is refused at
 * RCPT. A message is answered 250 only after it is durably committed (blob fsynced, rows committed;
 * messages arriving together share one transaction, see group-commit.ts: a write waits COMMIT_LINGER_MS
 * for company after an idle moment, and up to COMMIT_FILL_LINGER_MS for COMMIT_FILL_TO messages when it
 * follows the previous write within that time, so at a steady rate many share each commit and each pays a
 * fraction of its fixed cost); any internal failure answers 451
 * so the sending server retries. Size is capped (552) and connections
 * are rate-limited per client address.
 */
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession, type SMTPServerAddress } from 'smtp-server';
import type { Logger } from 'pino';
import type { Executor } from '../platform/context.js';
import type { ConnectionsTable } from '../platform/database/schema.js';
import { RateLimiter } from '../platform/security/rate-limit.js';
import type { MailIngest, PreparedBatch } from './ingest-port.js';
import { groupCommit } from './group-commit.js';
import { compiledOnce } from '../platform/database/compiled-once.js';
import type { SenderAuthenticator } from './sender-auth.js';

export interface InboundSmtpOptions {
  port: number;
  host: string;
  maxMessageBytes: number;
  maxClients: number;
  /** New connections per client IP per minute. */
  connectionsPerMinute: number;
  hostname?: string;
  log: Logger;
  /**
   * PEM key and certificate: STARTTLS is offered (optional for the sender unless `requireTls`). Unset: no
   * STARTTLS. `reload` (asked on each new connection) returns a renewed pair, or null when unchanged.
   */
  tls?: { key: Buffer; cert: Buffer; reload?: () => { key: Buffer; cert: Buffer } | null };
  /** MAIL FROM is refused (530) until the sender has issued STARTTLS. Needs `tls`. */
  requireTls?: boolean;
  /** SPF, DKIM, DMARC and ARC of each message (sender-auth.ts), stored with it. Unset: not verified. */
  senderAuth?: SenderAuthenticator;
  /** Features that own inbound addresses besides forwarding addresses (BCC logging), asked in order. */
  recipients?: readonly RecipientResolver[];
  /**
   * Features that consume a message for a target before it is stored (the forwarding check coming
   * back): true means handled, not stored.
   */
  intercepts?: readonly InboundIntercept[];
  /** How long a write waits for more messages after an idle moment (default COMMIT_LINGER_MS; 0: none). */
  commitLingerMs?: number;
}

/** Messages arriving within this many milliseconds of an idle writer are committed together. */
export const COMMIT_LINGER_MS = 20;
/**
 * While messages keep coming, a group that would hold fewer than this also waits COMMIT_FILL_LINGER_MS once
 * (a transaction's fixed cost, its pack file's fsyncs and the hooks' per-batch reads, shared by more).
 * Measured on the team-inbox write path (prepare and write of 20 KB messages, SQLite, in process): about
 * 1.8-2.3 ms of CPU a message in groups of 10, 1.5-1.6 in groups of 20, 1.2-1.5 in groups of 40; at 200
 * messages a second the 20 ms wait made groups of about 10.
 */
export const COMMIT_FILL_TO = 20;
/** How long a group that follows a write waits to fill up (steady traffic only: a lone message waits COMMIT_LINGER_MS). */
export const COMMIT_FILL_LINGER_MS = 50;

/**
 * What an inbound recipient address resolves to. `accept` (optional) looks at the whole message once it
 * has arrived and returns a refusal reason to turn it away for this recipient (the sender gets a 550 when
 * no recipient of the transaction accepted it), or null to store it.
 */
export type InboundTarget = { kind: 'connection'; connection: ConnectionsTable; accept?: (raw: Buffer) => Promise<string | null> };

/** Features that own other inbound addresses (BCC logging) pass a resolver in the options. */
export type RecipientResolver = (db: Executor, address: string) => Promise<InboundTarget | null>;
export type InboundIntercept = (env: MailIngest['env'], connection: ConnectionsTable, raw: Buffer) => Promise<boolean>;

/**
 * How long a forwarding address found at RCPT is remembered (per listener, per address): under steady
 * traffic to a team address the lookup ran once per message (on PostgreSQL, a round trip and ~50 columns
 * decoded: about 40% of the inbound path's statements). Nothing stale is ever stored: each group write
 * re-reads its connection first (connectionStillConnected), and a connection disconnected meanwhile
 * refuses the message with 550, as RCPT would have, and drops it from here.
 */
export const RECIPIENT_CACHE_MS = 2_000;

/** A connection's generated forwarding address (team email connected by forwarding). */
function forwardingAddressResolver(): { resolve: RecipientResolver; forget(connectionId: string): void } {
  const known = new Map<string, { connection: ConnectionsTable; until: number }>();
  return {
    async resolve(db, address) {
      const hit = known.get(address);
      const t = performance.now();
      if (hit && hit.until > t) return { kind: 'connection', connection: hit.connection };
      const c = (await connectionByForwardingAddress(db, address))[0];
      if (!c) {
        known.delete(address);
        return null;
      }
      if (known.size >= 10_000) known.clear(); // bounded: addresses are few, a flood of them is not kept
      known.set(address, { connection: c, until: t + RECIPIENT_CACHE_MS });
      return { kind: 'connection', connection: c };
    },
    forget(connectionId) {
      for (const [k, v] of known) if (v.connection.id === connectionId) known.delete(k);
    },
  };
}
// Every RCPT asks: built and compiled once (Kysely's building was most of the lookup's cost on SQLite). No
// LIMIT (the address is unique): on SQLite a `limit ?` made this statement 3 times as costly (~50 against
// ~15 us of CPU a call, measured), which more than undid the compiling saved.
const connectionByForwardingAddress = compiledOnce<[address: string], ConnectionsTable>('connectionByForwardingAddress', (db, arg) =>
  db.selectFrom('connections').selectAll().where('forwarding_address', '=', arg(0)).where('disconnected_at', 'is', null),
);
// Each group write reads its connection again (one statement a group): what is stored follows the
// connection as it is now, not as it was at RCPT.
const connectionStillConnected = compiledOnce<[id: string], ConnectionsTable>('connectionStillConnected', (db, arg) =>
  db.selectFrom('connections').selectAll().where('id', '=', arg(0)).where('disconnected_at', 'is', null),
);

/** The connection a message was accepted for at RCPT was disconnected before its write: refused with 550. */
class RecipientGone extends Error {
  readonly responseCode = 550;
  constructor(address: string) {
    super(`No mailbox here by that name: ${address} (disconnected; this server is not a relay)`);
  }
}

async function resolveRecipient(db: Executor, resolvers: readonly RecipientResolver[], address: string): Promise<InboundTarget | null> {
  const key = address.trim().toLowerCase();
  for (const r of resolvers) {
    const t = await r(db, key);
    if (t) return t;
  }
  return null;
}

async function interceptedBy(intercepts: readonly InboundIntercept[], env: MailIngest['env'], connection: ConnectionsTable, raw: Buffer): Promise<boolean> {
  for (const i of intercepts) if (await i(env, connection, raw)) return true;
  return false;
}

function smtpError(message: string, code: number): Error {
  return Object.assign(new Error(message), { responseCode: code });
}

export interface RunningInboundSmtp {
  port: number;
  close(): Promise<void>;
}

export async function startInboundSmtp(ingestor: MailIngest, o: InboundSmtpOptions): Promise<RunningInboundSmtp> {
  const forwarding = forwardingAddressResolver();
  const resolvers = [forwarding.resolve, ...(o.recipients ?? [])];
  const intercepts = o.intercepts ?? [];
  const limiter = new RateLimiter({ limit: o.connectionsPerMinute, intervalMs: 60_000 });
  const db = ingestor.env.db;
  // The recipients of the transaction in progress, keyed by its envelope: smtp-server keeps one session
  // object for the whole connection and starts a new envelope for each MAIL FROM, so a connection that
  // carries several messages never delivers one to another's recipients.
  const targets = new WeakMap<SMTPServerSession['envelope'], InboundTarget[]>();
  // Group commit per connection: messages are parsed and their blobs fsynced as they arrive, in
  // parallel; the rows of those that arrive while a transaction is running are written together by the
  // next one. Each sender still gets its 250 only once its own message is committed.
  const committers = new Map<string, (item: { connection: ConnectionsTable; prepared: PreparedBatch }) => Promise<void>>();
  const commit = (connection: ConnectionsTable, prepared: PreparedBatch) => {
    let c = committers.get(connection.id);
    if (!c) {
      const committer = groupCommit<{ connection: ConnectionsTable; prepared: PreparedBatch }>(async (group) => {
        const now = (await connectionStillConnected(db, connection.id))[0];
        if (!now) {
          forwarding.forget(connection.id);
          if (committers.get(connection.id) === committer) committers.delete(connection.id); // not a newer one's
          throw new RecipientGone(connection.forwarding_address ?? connection.address);
        }
        await ingestor.write(now, { items: group.flatMap((g) => g.prepared.items) });
      }, { lingerMs: o.commitLingerMs ?? COMMIT_LINGER_MS, fillTo: COMMIT_FILL_TO, fillLingerMs: COMMIT_FILL_LINGER_MS });
      committers.set(connection.id, committer);
      c = committer;
    }
    return c({ connection, prepared });
  };
  const options: SMTPServerOptions = {
    name: o.hostname,
    banner: 'Mailroom inbound',
    authOptional: true,
    // STARTTLS with the operator's key and certificate when configured; AUTH never (this is an MX).
    disabledCommands: o.tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    ...(o.tls ? { key: o.tls.key, cert: o.tls.cert } : {}),
    size: o.maxMessageBytes,
    maxClients: o.maxClients,
    logger: false,
    onConnect(session, cb) {
      const d = limiter.take(session.remoteAddress ?? 'unknown');
      if (!d.allowed) return cb(smtpError('Too many connections from your address, try again later', 421));
      const renewed = o.tls?.reload?.();
      if (renewed) server.updateSecureContext(renewed); // this connection's STARTTLS gets the new certificate
      cb();
    },
    onMailFrom(_address, session, cb) {
      if (o.requireTls && !session.secure) return cb(smtpError('Must issue a STARTTLS command first', 530));
      cb();
    },
    onRcptTo(address: SMTPServerAddress, session, cb) {
      resolveRecipient(db, resolvers, address.address).then(
        (t) => {
          if (!t) return cb(smtpError(`No mailbox here by that name: ${address.address} (this server is not a relay)`, 550));
          const list = targets.get(session.envelope) ?? [];
          if (!list.some((x) => x.connection.id === t.connection.id)) list.push(t);
          targets.set(session.envelope, list);
          cb();
        },
        (err) => {
          o.log.error({ err }, 'recipient lookup failed');
          cb(smtpError('Temporary failure looking up the recipient, try again later', 451));
        },
      );
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      let size = 0;
      stream.on('data', (c: Buffer) => {
        size += c.length;
        if (size <= o.maxMessageBytes) chunks.push(c);
      });
      stream.on('error', (err) => cb(err));
      stream.on('end', () => {
        if ((stream as unknown as { sizeExceeded?: boolean }).sizeExceeded || size > o.maxMessageBytes) {
          return cb(smtpError(`Message too large: the limit is ${o.maxMessageBytes} bytes`, 552));
        }
        const raw = Buffer.concat(chunks);
        const list = targets.get(session.envelope) ?? [];
        const receivedAt = ingestor.env.now();
        (async () => {
          // SPF, DKIM, DMARC, ARC: once per message, whatever its recipients; stored with each copy.
          const envelope = { ip: session.remoteAddress, helo: session.hostNameAppearsAs, mailFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '' };
          const senderAuth = o.senderAuth && list.length ? await o.senderAuth(raw, envelope) : null;
          let refusal: string | null = null;
          let storedCount = 0;
          for (const t of list) {
            if (await interceptedBy(intercepts, ingestor.env, t.connection, raw)) {
              storedCount += 1; // e.g. our forwarding check came back: recorded on the connection, not stored
              continue;
            }
            const why = t.accept ? await t.accept(raw) : null;
            if (why) {
              refusal = why;
              continue;
            }
            try {
              await commit(t.connection, await ingestor.prepareMany([{ raw, source: 'smtp', direction: 'inbound', receivedAt, ...(senderAuth ? { senderAuth } : {}) }]));
            } catch (err) {
              if (!(err instanceof RecipientGone)) throw err;
              refusal = err.message; // as a 550 at RCPT would have: the others of the transaction still get it
              continue;
            }
            storedCount += 1;
          }
          return storedCount === 0 && refusal ? refusal : null;
        })().then(
          (refusal) => (refusal ? cb(smtpError(refusal, 550)) : cb(null, 'Stored')),
          (err) => {
            o.log.error({ err: { message: (err as Error).message } }, 'storing inbound message failed; sender will retry');
            cb(smtpError('Temporary failure storing the message, try again later', 451));
          },
        );
      });
    },
  };
  const server = new SMTPServer(options);
  server.on('error', (err) => o.log.warn({ err: { message: err.message } }, 'inbound SMTP error'));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => resolve());
  });
  const addr = (server as unknown as { server: { address(): { port: number } } }).server.address();
  return {
    port: addr.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
