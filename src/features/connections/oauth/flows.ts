/**
 * Connecting a mailbox with OAuth (issue 14): the use cases behind "Connect with Google / Microsoft /
 * your provider" and "Reconnect".
 *
 * startOAuthConnect   checks the request like a connect (fast refusal), records a flow, and returns the
 *                     provider's authorization URL (code flow with PKCE, back to PUBLIC_URL) or a device
 *                     code and link (device flow)
 * completeOAuthCallback  the redirect back: the state must be this user's, unexpired and unused (it is
 *                     used up at once), the code is exchanged with the PKCE verifier, the ID token checked
 * pollDeviceFlow     the worker's job (connection.oauth_device_poll): one poll of the token endpoint at
 *                     the provider's interval (slow_down adds 5 s) until approved, denied or expired, so
 *                     the user may close the page; deviceFlowStatus / pendingDeviceFlows read the outcome
 * Then the same rules as every connection: `connectEmail` with the address from the ID token (verified;
 * equal to the typed one when one was typed), or for a reconnect the connection's own address, whose
 * history and sync checkpoint stay.
 */
import crypto from 'node:crypto';
import './schema.js';
import '../settings.js';
import { AppError, invalidRequest, notFound } from '../../../platform/errors.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import { enqueue } from '../../../platform/jobs/queue.js';
import type { Actor, CommandEnv, Executor } from '../../../platform/context.js';
import { isAdmin, userFactsFromRow } from '../../accounts/index.js';
import { addressKey } from '../domain/address-key.js';
import { checkConnectionUpdate } from '../domain/connection-rules.js';
import { connectEmail, refusalError, type ConnectEmailInput } from '../commands/connectEmail.js';
import { connectionViewById, loadConnection, type ConnectionView } from '../queries.js';
import { markCredentialsUpdated, type Transport } from '../lifecycle.js';
import { verifyConnectionSettings } from '../../../mail/verify-connection.js';
import { authorizationUrl, exchangeCode, pollDevice, providerClient, startDevice, supportsDeviceFlow, type Identity, type TokenSet } from './client.js';
import { displayName, OAUTH_PROVIDER_IDS, serversFor, type OAuthProviderId } from './providers.js';
import { sealedAccessToken, storeGrant } from './tokens.js';

/**
 * The redirect URI: the web app's email settings page, which hands the URL it was opened with to
 * POST /api/v1/connections/oauth/callback (so errors come back in the API's shape, and the page shows them).
 */
export const CALLBACK_PATH = '/settings/email';
const CODE_FLOW_TTL_MS = 15 * 60_000;
const SLOW_DOWN_MS = 5_000;

export interface OAuthConnectRequest {
  provider: OAuthProviderId;
  flow?: 'code' | 'device';
  type?: 'personal' | 'team';
  /** The address the user means to connect; the signed-in identity must be it. Optional: the identity's. */
  address?: string;
  inboxId?: string;
  userId?: string;
  useForMeetings?: boolean;
  syncWindowDays?: number | null;
  /** Reconnect this connection (auth_failed / needs reauth): same address, history and checkpoint kept. */
  connectionId?: string;
}

export type OAuthStart =
  | { flowId: string; flow: 'code'; authorizationUrl: string; expiresAt: string }
  | { flowId: string; flow: 'device'; userCode: string; verificationUri: string; verificationUriComplete: string | null; intervalSeconds: number; expiresAt: string };

export type OAuthFlowStatus =
  | { flowId: string; status: 'pending'; retryAfterSeconds: number }
  | { flowId: string; status: 'connected'; connection: ConnectionView }
  | { flowId: string; status: 'failed'; error: { code: string; message: string } };

export function redirectUri(env: CommandEnv): string {
  return new URL(CALLBACK_PATH, env.settings.publicUrl).toString();
}

/** Providers offered on this Mailroom (configured ones) and whether each can use the device flow. */
export async function oauthProviders(env: CommandEnv): Promise<Array<{ id: OAuthProviderId; name: string; deviceFlow: boolean }>> {
  const out: Array<{ id: OAuthProviderId; name: string; deviceFlow: boolean }> = [];
  for (const id of OAUTH_PROVIDER_IDS) {
    if (!env.settings.oauth?.[id]) continue;
    let deviceFlow = id === 'microsoft';
    if (id === 'oidc') deviceFlow = await providerClient(id, env.settings.oauth).then(supportsDeviceFlow, () => false);
    out.push({ id, name: displayName(id, env.settings.oauth), deviceFlow });
  }
  return out;
}

function stateMac(env: CommandEnv, flowId: string, actor: Actor): string {
  return crypto.createHmac('sha256', Buffer.from(env.secrets.derive('oauth-state'), 'hex')).update(`${flowId}\n${actor.accountId}\n${actor.user.id}`).digest('base64url');
}

function stateInvalid(why: string): AppError {
  return new AppError('oauth_state_invalid', 400, `This sign-in link is ${why}. Start "Connect with ..." again from Settings → Email.`);
}

/** The checks a connect makes before any network call, and the reconnect's own. */
async function precheck(env: CommandEnv, actor: Actor, req: OAuthConnectRequest): Promise<void> {
  if (!OAUTH_PROVIDER_IDS.includes(req.provider)) throw invalidRequest('Choose google, microsoft or oidc as the provider.', { field: 'provider' });
  if (!env.settings.oauth?.[req.provider]) await providerClient(req.provider, env.settings.oauth); // throws not configured
  if (req.address !== undefined) {
    const parsed = addressKey(req.address);
    if (!parsed.ok) throw invalidRequest(parsed.message, { field: 'address' });
  }
  if (req.connectionId) {
    const c = await loadConnection(env.db, actor.accountId, req.connectionId);
    if (c.type === 'personal' && c.user_id !== actor.user.id && !isAdmin(actor.user)) throw notFound('Connection');
    const decision = checkConnectionUpdate(userFactsFromRow(actor.user), { type: c.type as 'personal' | 'team', userId: c.user_id, inboxId: c.inbox_id }, {});
    if (!decision.ok) throw refusalError(decision.refusal);
    if (c.disconnected_at !== null) throw new AppError('connection_disconnected', 409, `${c.address} is disconnected. Connect it again instead.`);
    if (c.transport !== 'imap') throw invalidRequest(`${c.address} receives mail by forwarding; it has no mailbox to sign in to.`, { field: 'connectionId' });
    return;
  }
  const type = req.type ?? 'personal';
  if (type === 'team' && !req.inboxId) throw invalidRequest('Choose the conversations inbox this team address feeds (inboxId).', { field: 'inboxId' });
  if (type === 'personal' && req.inboxId) throw invalidRequest('Personal email does not feed an inbox; leave inboxId out or connect it as team email.', { field: 'inboxId' });
}

export async function startOAuthConnect(env: CommandEnv, actor: Actor, req: OAuthConnectRequest): Promise<OAuthStart> {
  await precheck(env, actor, req);
  const p = await providerClient(req.provider, env.settings.oauth);
  const flow = req.flow ?? 'code';
  const flowId = newId('oaf');
  const now = env.now();
  // Flows finished or abandoned more than a day ago are of no use any more.
  await env.db.deleteFrom('oauth_flows').where('expires_at', '<', now - 24 * 3600_000).execute();
  const base = { id: flowId, account_id: actor.accountId, user_id: actor.user.id, provider: req.provider, request: JSON.stringify({ ...req, flow }), status: 'pending' as const, created_at: now };
  let loginHint = req.address;
  if (req.connectionId) loginHint = (await loadConnection(env.db, actor.accountId, req.connectionId)).address;
  if (flow === 'device') {
    if (!supportsDeviceFlow(p)) {
      throw new AppError('oauth_device_flow_unsupported', 422, `${displayName(req.provider, env.settings.oauth)} offers no sign-in with a code for mailboxes. Use "Connect with ${displayName(req.provider, env.settings.oauth)}" (the browser comes back to Mailroom).`, { provider: req.provider });
    }
    const d = await startDevice(p);
    const expiresAt = now + d.expiresIn * 1000;
    await env.db
      .insertInto('oauth_flows')
      .values({
        ...base,
        kind: 'device',
        secret: env.secrets.seal(JSON.stringify({ deviceCode: d.deviceCode })),
        user_code: d.userCode,
        verification_uri: d.verificationUri,
        verification_uri_complete: d.verificationUriComplete,
        interval_ms: d.intervalS * 1000,
        next_poll_at: now + d.intervalS * 1000,
        connection_id: null,
        error_code: null,
        error_message: null,
        expires_at: expiresAt,
        used_at: null,
      })
      .execute();
    // Mailroom polls the provider in the background (the user may close the page).
    await scheduleDevicePoll(env.db, now, flowId, now + d.intervalS * 1000);
    env.onJobsQueued?.();
    return { flowId, flow: 'device', userCode: d.userCode, verificationUri: d.verificationUri, verificationUriComplete: d.verificationUriComplete, intervalSeconds: d.intervalS, expiresAt: new Date(expiresAt).toISOString() };
  }
  const state = `${flowId}.${stateMac(env, flowId, actor)}`;
  const start = await authorizationUrl(p, { redirectUri: redirectUri(env), state, ...(loginHint ? { loginHint } : {}) });
  const expiresAt = now + CODE_FLOW_TTL_MS;
  await env.db
    .insertInto('oauth_flows')
    .values({
      ...base,
      kind: 'code',
      secret: env.secrets.seal(JSON.stringify({ codeVerifier: start.codeVerifier, nonce: start.nonce })),
      user_code: null,
      verification_uri: null,
      verification_uri_complete: null,
      interval_ms: null,
      next_poll_at: null,
      connection_id: null,
      error_code: null,
      error_message: null,
      expires_at: expiresAt,
      used_at: null,
    })
    .execute();
  return { flowId, flow: 'code', authorizationUrl: start.url, expiresAt: new Date(expiresAt).toISOString() };
}

/**
 * The redirect back from the provider (`callbackUrl` is the whole URL it came back to). The state must be
 * this user's flow, unexpired and unused; it is used up before anything else, so a replay is refused.
 */
export async function completeOAuthCallback(env: CommandEnv, actor: Actor, callbackUrl: URL): Promise<ConnectionView> {
  const state = callbackUrl.searchParams.get('state') ?? '';
  const [flowId, mac] = state.split('.');
  if (!flowId || !mac) throw stateInvalid('incomplete');
  const expected = stateMac(env, flowId, actor);
  if (mac.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(mac), Buffer.from(expected))) throw stateInvalid('not one you started (another session or user)');
  const flow = await env.db.selectFrom('oauth_flows').selectAll().where('id', '=', flowId).where('account_id', '=', actor.accountId).where('user_id', '=', actor.user.id).where('kind', '=', 'code').executeTakeFirst();
  if (!flow) throw stateInvalid('not one you started (another session or user)');
  const now = env.now();
  if (Number(flow.expires_at) < now) throw stateInvalid('expired');
  const used = await env.db.updateTable('oauth_flows').set({ used_at: now }).where('id', '=', flowId).where('used_at', 'is', null).executeTakeFirst();
  if (Number(used.numUpdatedRows) !== 1) throw stateInvalid('already used');
  const req = JSON.parse(flow.request) as OAuthConnectRequest;
  const secret = JSON.parse(env.secrets.open(flow.secret)) as { codeVerifier: string; nonce: string };
  try {
    const p = await providerClient(req.provider, env.settings.oauth);
    const r = await exchangeCode(p, { callbackUrl, state, redirectUri: redirectUri(env), codeVerifier: secret.codeVerifier, nonce: secret.nonce });
    const view = await connectWithTokens(env, actor, req, r.tokens, r.identity);
    await env.db.updateTable('oauth_flows').set({ status: 'connected', connection_id: view.id }).where('id', '=', flowId).execute();
    return view;
  } catch (err) {
    const e = err as AppError;
    await env.db.updateTable('oauth_flows').set({ status: 'failed', error_code: e.code ?? 'oauth_failed', error_message: e.message ?? 'failed' }).where('id', '=', flowId).execute();
    throw err;
  }
}

/** The durable job that polls the provider for a device flow (one job per flow, run again at the interval). */
export const OAUTH_DEVICE_POLL_JOB = 'connection.oauth_device_poll';

export async function scheduleDevicePoll(db: Executor, now: number, flowId: string, at: number): Promise<void> {
  await enqueue(db, now, { queue: 'default', kind: OAUTH_DEVICE_POLL_JOB, payload: { flowId }, runAt: at, dedupeKey: `oauth-device:${flowId}` });
}

type FlowRow = Awaited<ReturnType<typeof loadFlow>>;
async function loadFlow(env: CommandEnv, flowId: string) {
  return env.db.selectFrom('oauth_flows').selectAll().where('id', '=', flowId).executeTakeFirst();
}

/** What the user sees of a flow, from its record (never a call to the provider). */
async function flowStatus(env: CommandEnv, flow: NonNullable<FlowRow>): Promise<OAuthFlowStatus> {
  const flowId = flow.id;
  if (flow.status === 'connected') return { flowId, status: 'connected', connection: await connectionViewById(env.db, flow.account_id, flow.connection_id!) };
  if (flow.status === 'failed') return { flowId, status: 'failed', error: { code: flow.error_code ?? 'oauth_failed', message: flow.error_message ?? '' } };
  const wait = Math.max(Number(flow.next_poll_at ?? 0), env.now() + 1000) - env.now();
  return { flowId, status: 'pending', retryAfterSeconds: Math.max(1, Math.ceil(Math.min(wait, flow.interval_ms ?? 5000) / 1000)) };
}

/**
 * A device flow's state for the user who started it: pending (Mailroom's worker is polling the provider
 * in the background, so the page may be closed), connected, or failed with why. Reads the record only.
 */
export async function deviceFlowStatus(env: CommandEnv, actor: Actor, flowId: string): Promise<OAuthFlowStatus> {
  const flow = await env.db.selectFrom('oauth_flows').selectAll().where('id', '=', flowId).where('account_id', '=', actor.accountId).where('user_id', '=', actor.user.id).executeTakeFirst();
  if (!flow) throw notFound('Sign-in');
  return flowStatus(env, flow);
}

export interface PendingDeviceFlow {
  flowId: string;
  provider: OAuthProviderId;
  providerName: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  intervalSeconds: number;
  expiresAt: string;
  connectionId: string | null;
}

/** The user's device flows still waiting for the code to be entered (shown again after the page was closed). */
export async function pendingDeviceFlows(env: CommandEnv, actor: Actor): Promise<PendingDeviceFlow[]> {
  const rows = await env.db
    .selectFrom('oauth_flows')
    .selectAll()
    .where('account_id', '=', actor.accountId)
    .where('user_id', '=', actor.user.id)
    .where('kind', '=', 'device')
    .where('status', '=', 'pending')
    .where('expires_at', '>', env.now())
    .orderBy('created_at', 'desc')
    .execute();
  return rows.map((f) => {
    const req = JSON.parse(f.request) as OAuthConnectRequest;
    return {
      flowId: f.id,
      provider: f.provider as OAuthProviderId,
      providerName: displayName(f.provider as OAuthProviderId, env.settings.oauth),
      userCode: f.user_code ?? '',
      verificationUri: f.verification_uri ?? '',
      verificationUriComplete: f.verification_uri_complete,
      intervalSeconds: Math.ceil((f.interval_ms ?? 5000) / 1000),
      expiresAt: new Date(Number(f.expires_at)).toISOString(),
      connectionId: req.connectionId ?? null,
    };
  });
}

export type DevicePollOutcome = { status: 'pending'; nextPollAt: number } | { status: 'connected' | 'failed' | 'gone' };

/**
 * One poll of the provider for a device flow, run by the worker's job: only once the provider's interval
 * has passed (claimed by a conditional update, so two workers make one request), `slow_down` adding 5 s;
 * approved → connected with the rules of every connection, as the user who started the flow; denied or
 * expired → failed with why. The user's page only reads the outcome.
 */
export async function pollDeviceFlow(env: CommandEnv, flowId: string): Promise<DevicePollOutcome> {
  const flow = await loadFlow(env, flowId);
  if (!flow || flow.kind !== 'device') return { status: 'gone' };
  if (flow.status !== 'pending') return { status: flow.status };
  const now = env.now();
  const fail = async (code: string, message: string): Promise<DevicePollOutcome> => {
    await env.db.updateTable('oauth_flows').set({ status: 'failed', error_code: code, error_message: message, used_at: now }).where('id', '=', flowId).where('status', '=', 'pending').execute();
    return { status: 'failed' };
  };
  if (Number(flow.expires_at) < now) return fail('oauth_device_code_expired', 'The code expired before it was entered. Start again to get a new code.');
  const interval = flow.interval_ms ?? 5000;
  if (Number(flow.next_poll_at ?? 0) > now) return { status: 'pending', nextPollAt: Number(flow.next_poll_at) };
  // Claim this poll (two workers at once make one request to the provider).
  const claimed = await env.db
    .updateTable('oauth_flows')
    .set({ next_poll_at: now + interval })
    .where('id', '=', flowId)
    .where('status', '=', 'pending')
    .where('next_poll_at', '=', flow.next_poll_at)
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) return { status: 'pending', nextPollAt: now + interval };
  const user = await env.db.selectFrom('users').selectAll().where('id', '=', flow.user_id).executeTakeFirst();
  const account = await env.db.selectFrom('accounts').select('plan').where('id', '=', flow.account_id).executeTakeFirst();
  if (!user || user.state !== 'active' || !account) return fail('user_not_active', 'The user who started this sign-in can no longer connect mailboxes.');
  const actor: Actor = { user, accountId: flow.account_id, plan: account.plan };
  const req = JSON.parse(flow.request) as OAuthConnectRequest;
  const { deviceCode } = JSON.parse(env.secrets.open(flow.secret)) as { deviceCode: string };
  let r: Awaited<ReturnType<typeof pollDevice>>;
  try {
    r = await pollDevice(await providerClient(req.provider, env.settings.oauth), deviceCode);
  } catch (err) {
    const e = err as AppError;
    if (e.code === 'oauth_provider_not_configured') return fail(e.code, e.message);
    // The provider could not be reached: ask again later (the code's expiry ends it at worst).
    return { status: 'pending', nextPollAt: now + 2 * interval };
  }
  if (r.status === 'pending') return { status: 'pending', nextPollAt: now + interval };
  if (r.status === 'slow_down') {
    const slower = interval + SLOW_DOWN_MS;
    await env.db.updateTable('oauth_flows').set({ interval_ms: slower, next_poll_at: now + slower }).where('id', '=', flowId).execute();
    return { status: 'pending', nextPollAt: now + slower };
  }
  if (r.status === 'failed') return fail(r.error.code, r.error.message);
  await env.db.updateTable('oauth_flows').set({ used_at: now }).where('id', '=', flowId).execute();
  try {
    const view = await connectWithTokens(env, actor, req, r.tokens, r.identity);
    await env.db.updateTable('oauth_flows').set({ status: 'connected', connection_id: view.id }).where('id', '=', flowId).execute();
    return { status: 'connected' };
  } catch (err) {
    const e = err as AppError;
    return fail(e.code ?? 'oauth_failed', e.message);
  }
}

/** The signed-in identity against what is being connected, then the connect (or reconnect) itself. */
export async function connectWithTokens(env: CommandEnv, actor: Actor, req: OAuthConnectRequest, tokens: TokenSet, identity: Identity): Promise<ConnectionView> {
  const name = displayName(req.provider, env.settings.oauth);
  const signedIn = addressKey(identity.email);
  if (!signedIn.ok) throw new AppError('oauth_no_email', 422, `${name} returned "${identity.email}", which is not an email address Mailroom can connect.`);
  if (!tokens.refreshToken) {
    throw new AppError('oauth_failed', 422, `${name} gave Mailroom no refresh token, so the mailbox would stop syncing within the hour. Remove Mailroom from your account's connected apps at ${name}, then connect again (and allow offline access).`);
  }
  const mismatch = (address: string) =>
    new AppError('oauth_address_mismatch', 422, `You signed in at ${name} as ${identity.email}, not as ${address}. Sign in with ${address} (use a private window or sign out of ${name} first), or connect ${identity.email} instead.`, { address, signedInAs: identity.email });
  const servers = serversFor(req.provider, env.settings.oauth ?? {});
  const now = env.now();
  const store = (trx: Parameters<typeof storeGrant>[1], connectionId: string, accountId: string) =>
    storeGrant(env, trx, { connectionId, accountId, provider: req.provider, issuer: identity.issuer, subject: identity.subject, tokens, now });

  if (req.connectionId) {
    const c = await loadConnection(env.db, actor.accountId, req.connectionId);
    if (addressKey(c.address).ok && (addressKey(c.address) as { key: string }).key !== signedIn.key) throw mismatch(c.address);
    const imap = { ...servers.imap, username: signedIn.display, password: '', accessToken: tokens.accessToken };
    const smtp = { ...servers.smtp, username: signedIn.display, password: '', accessToken: tokens.accessToken };
    const verified = await verifyConnectionSettings({ imap, smtp });
    await env.db.transaction().execute(async (trx) => {
      await markCredentialsUpdated(trx, c.id, {
        transport: c.transport as Transport,
        now,
        also: {
          imap_host: imap.host,
          imap_port: imap.port,
          imap_tls: imap.tls,
          imap_username: imap.username,
          smtp_host: smtp.host,
          smtp_port: smtp.port,
          smtp_tls: smtp.tls,
          smtp_username: smtp.username,
          credentials: sealedAccessToken(env, tokens.accessToken),
          sent_folder: c.sent_folder ?? verified.sentFolder,
        },
      });
      await store(trx, c.id, c.account_id);
      await enqueue(trx, now, { queue: 'sync', kind: 'connection.sync', payload: { connectionId: c.id }, dedupeKey: `sync:${c.id}` });
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'connection.credentials_updated', targetType: 'connection', targetId: c.id, data: { oauth: req.provider }, at: now });
    });
    env.onJobsQueued?.();
    return connectionViewById(env.db, actor.accountId, c.id);
  }

  if (req.address !== undefined) {
    const typed = addressKey(req.address);
    if (typed.ok && typed.key !== signedIn.key) throw mismatch(typed.display);
  }
  const input: ConnectEmailInput = {
    type: req.type ?? 'personal',
    address: signedIn.display,
    ...(req.inboxId ? { inboxId: req.inboxId } : {}),
    ...(req.userId ? { userId: req.userId } : {}),
    transport: 'imap',
    imap: { ...servers.imap, username: signedIn.display, password: '' },
    smtp: { ...servers.smtp, username: signedIn.display, password: '' },
    ...(req.useForMeetings !== undefined ? { useForMeetings: req.useForMeetings } : {}),
    ...(req.syncWindowDays !== undefined ? { syncWindowDays: req.syncWindowDays } : {}),
  };
  return connectEmail(env, actor, input, { accessToken: tokens.accessToken, store: (trx, id) => store(trx, id, actor.accountId) });
}
