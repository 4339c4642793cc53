/**
 * The OAuth client side of Mailroom (oauth4webapi): authorization code with PKCE, the device
 * authorization flow, refresh, and the identity (email) of whoever signed in. Network I/O to the
 * provider only; the commands decide what to store.
 *
 * oauth4webapi is loaded with the first call that needs it: a process that never signs in to a provider
 * (`mailroom import` and every other one-shot command, which load this feature's wiring) does not load it.
 */
import type * as Oauth from 'oauth4webapi';
import { AppError } from '../../../platform/errors.js';
import {
  GOOGLE_ENDPOINTS,
  authorizationExtras,
  displayName,
  microsoftEndpoints,
  refreshExtras,
  scopesFor,
  type OAuthProviderId,
  type OAuthProvidersConfig,
} from './providers.js';

export interface ProviderClient {
  provider: OAuthProviderId;
  as: Oauth.AuthorizationServer;
  client: Oauth.Client;
  auth: Oauth.ClientAuth;
  scopes: string[];
  /** Plain http is allowed only for a loopback issuer (tests, a provider on the same host). */
  insecure: boolean;
}

/** Tokens as the provider returned them. */
export interface TokenSet {
  accessToken: string;
  refreshToken: string | null;
  expiresIn: number | undefined;
  scope: string | null;
}

export interface Identity {
  subject: string;
  email: string;
  issuer: string;
}

let loaded: typeof Oauth | undefined;
async function oauthLib(): Promise<typeof Oauth> {
  loaded ??= await import('oauth4webapi');
  return loaded;
}

const discovered = new Map<string, { at: number; as: Oauth.AuthorizationServer }>();
const DISCOVERY_CACHE_MS = 10 * 60_000;

function notConfigured(provider: OAuthProviderId, config: OAuthProvidersConfig | undefined): AppError {
  return new AppError('oauth_provider_not_configured', 404, `Connecting with ${displayName(provider, config)} is not set up on this Mailroom. An operator sets it up with the MAILROOM_OAUTH_${provider.toUpperCase()}_* variables (README, "Connect Gmail / Microsoft 365").`, { provider });
}

/** The provider's server metadata and Mailroom's client registration there. */
export async function providerClient(provider: OAuthProviderId, config: OAuthProvidersConfig | undefined): Promise<ProviderClient> {
  const oauth = await oauthLib();
  const c = config?.[provider];
  if (!c) throw notConfigured(provider, config);
  let as: Oauth.AuthorizationServer;
  let insecure = false;
  if (provider === 'google') as = { ...GOOGLE_ENDPOINTS };
  else if (provider === 'microsoft') {
    const ms = config!.microsoft!;
    as = { ...microsoftEndpoints(ms.tenant) };
    // "common"/"organizations": the ID token's iss names the user's own tenant.
    (as as unknown as Record<symbol, unknown>)[(oauth as unknown as { _expectedIssuer: symbol })._expectedIssuer] = (result: { claims: { tid?: string } }) =>
      result.claims.tid ? `https://login.microsoftonline.com/${result.claims.tid}/v2.0` : as.issuer;
  } else {
    const issuer = config!.oidc!.issuer;
    insecure = issuer.startsWith('http:');
    const hit = discovered.get(issuer);
    if (hit && Date.now() - hit.at < DISCOVERY_CACHE_MS) as = hit.as;
    else {
      try {
        const url = new URL(issuer);
        const res = await oauth.discoveryRequest(url, { algorithm: 'oidc', [oauth.allowInsecureRequests]: insecure });
        as = await oauth.processDiscoveryResponse(url, res);
      } catch (err) {
        throw providerUnreachable(provider, config, err);
      }
      discovered.set(issuer, { at: Date.now(), as });
    }
  }
  const client: Oauth.Client = { client_id: c.clientId };
  const auth = c.clientSecret ? oauth.ClientSecretPost(c.clientSecret) : oauth.None();
  return { provider, as, client, auth, scopes: scopesFor(provider, config!), insecure };
}

export function providerUnreachable(provider: OAuthProviderId, config: OAuthProvidersConfig | undefined, err: unknown): AppError {
  return new AppError('oauth_provider_unreachable', 502, `${displayName(provider, config)} could not be reached (${(err as Error)?.message ?? 'network error'}). Try again in a moment; if it keeps failing, an operator checks that this server can reach the provider.`, { provider });
}

function opts(oauth: typeof Oauth, p: ProviderClient) {
  return { [oauth.allowInsecureRequests]: p.insecure };
}

export interface CodeStart {
  url: string;
  codeVerifier: string;
  nonce: string;
}

/** The authorization URL (PKCE S256, state, nonce) to send the user's browser to. */
export async function authorizationUrl(p: ProviderClient, o: { redirectUri: string; state: string; loginHint?: string }): Promise<CodeStart> {
  const oauth = await oauthLib();
  const codeVerifier = oauth.generateRandomCodeVerifier();
  const nonce = oauth.generateRandomNonce();
  const url = new URL(p.as.authorization_endpoint!);
  const params: Record<string, string> = {
    client_id: p.client.client_id,
    redirect_uri: o.redirectUri,
    response_type: 'code',
    scope: p.scopes.join(' '),
    state: o.state,
    nonce,
    code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
    code_challenge_method: 'S256',
    ...authorizationExtras(p.provider),
    ...(o.loginHint ? { login_hint: o.loginHint } : {}),
  };
  for (const [k, v] of Object.entries(params)) url.searchParams.set(k, v);
  return { url: url.toString(), codeVerifier, nonce };
}

function tokens(r: Oauth.TokenEndpointResponse): TokenSet {
  return { accessToken: r.access_token, refreshToken: r.refresh_token ?? null, expiresIn: r.expires_in, scope: r.scope ?? null };
}

/** The identity in the ID token (verified email), else from userinfo. */
async function identity(p: ProviderClient, r: Oauth.TokenEndpointResponse): Promise<Identity> {
  const oauth = await oauthLib();
  const claims = oauth.getValidatedIdTokenClaims(r);
  let email: unknown = claims?.email;
  let verified: unknown = claims?.email_verified;
  const subject = String(claims?.sub ?? '');
  if (p.provider === 'microsoft' && typeof email !== 'string') {
    // Entra puts the sign-in address in preferred_username (a verified UPN for work accounts).
    email = claims?.preferred_username;
    verified = true;
  }
  if (typeof email !== 'string' && p.as.userinfo_endpoint) {
    const res = await oauth.userInfoRequest(p.as, p.client, r.access_token, opts(oauth, p));
    const info = await oauth.processUserInfoResponse(p.as, p.client, subject || oauth.skipSubjectCheck, res);
    email = info.email;
    verified = info.email_verified;
  }
  if (typeof email !== 'string' || !email.includes('@')) {
    throw new AppError('oauth_no_email', 422, `${displayName(p.provider, undefined)} did not tell Mailroom which email address you signed in with. Allow the "email" scope for Mailroom at the provider, then try again.`);
  }
  if (verified === false || verified === 'false') {
    throw new AppError('oauth_email_not_verified', 422, `The provider says ${email} is not verified. Verify the address at the provider, then connect again.`, { address: email });
  }
  return { subject, email, issuer: String(claims?.iss ?? p.as.issuer) };
}

/** The callback: checks state and the code, exchanges it with the PKCE verifier, checks the ID token (nonce). */
export async function exchangeCode(p: ProviderClient, o: { callbackUrl: URL; state: string; redirectUri: string; codeVerifier: string; nonce: string }): Promise<{ tokens: TokenSet; identity: Identity }> {
  const oauth = await oauthLib();
  let params: URLSearchParams;
  try {
    params = oauth.validateAuthResponse(p.as, p.client, o.callbackUrl, o.state);
  } catch (err) {
    if (err instanceof oauth.AuthorizationResponseError) {
      const denied = err.error === 'access_denied';
      throw new AppError(denied ? 'oauth_denied' : 'oauth_failed', 422, denied ? 'You did not allow Mailroom to use this mailbox. Connect again and accept the permissions asked for.' : `The provider refused the sign-in (${err.error}${err.error_description ? `: ${err.error_description}` : ''}). Try again.`);
    }
    throw err;
  }
  try {
    const res = await oauth.authorizationCodeGrantRequest(p.as, p.client, p.auth, params, o.redirectUri, o.codeVerifier, opts(oauth, p));
    const r = await oauth.processAuthorizationCodeResponse(p.as, p.client, res, { expectedNonce: o.nonce, requireIdToken: true });
    return { tokens: tokens(r), identity: await identity(p, r) };
  } catch (err) {
    throw tokenError(p, err);
  }
}

/** An error from the token endpoint, as the API's error. */
export function tokenError(p: ProviderClient, err: unknown): AppError {
  if (err instanceof AppError) return err;
  // Without the library loaded, no error can be one of its.
  if (loaded && err instanceof loaded.ResponseBodyError) {
    return new AppError('oauth_failed', 422, `${displayName(p.provider, undefined)} refused the sign-in (${err.error}${err.error_description ? `: ${err.error_description}` : ''}). Connect again.`, { error: err.error });
  }
  return providerUnreachable(p.provider, undefined, err);
}

/** A refresh failure: `invalid_grant` is terminal (needs the user), anything else is transient. */
export class RefreshError extends Error {
  constructor(
    readonly terminal: boolean,
    readonly reason: string,
  ) {
    super(reason);
    this.name = 'RefreshError';
  }
}

export async function refresh(p: ProviderClient, refreshToken: string, config: OAuthProvidersConfig | undefined): Promise<TokenSet> {
  const oauth = await oauthLib();
  try {
    const res = await oauth.refreshTokenGrantRequest(p.as, p.client, p.auth, refreshToken, { ...opts(oauth, p), additionalParameters: refreshExtras(p.provider, config ?? {}) });
    const r = await oauth.processRefreshTokenResponse(p.as, p.client, res);
    return tokens(r);
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) {
      // invalid_grant: revoked, expired, password changed; unauthorized_client/invalid_client: registration changed.
      const terminal = err.error === 'invalid_grant' || err.error === 'unauthorized_client' || err.error === 'invalid_client';
      throw new RefreshError(terminal && err.status < 500, `${err.error}${err.error_description ? `: ${err.error_description}` : ''}`);
    }
    throw new RefreshError(false, (err as Error)?.message ?? 'network error');
  }
}

export interface DeviceStart {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string | null;
  expiresIn: number;
  intervalS: number;
}

export function supportsDeviceFlow(p: ProviderClient): boolean {
  return p.provider !== 'google' && Boolean(p.as.device_authorization_endpoint);
}

export async function startDevice(p: ProviderClient): Promise<DeviceStart> {
  const oauth = await oauthLib();
  try {
    const res = await oauth.deviceAuthorizationRequest(p.as, p.client, p.auth, { scope: p.scopes.join(' ') }, opts(oauth, p));
    const r = await oauth.processDeviceAuthorizationResponse(p.as, p.client, res);
    return {
      deviceCode: r.device_code,
      userCode: r.user_code,
      verificationUri: r.verification_uri,
      verificationUriComplete: r.verification_uri_complete ?? null,
      expiresIn: r.expires_in,
      intervalS: r.interval ?? 5,
    };
  } catch (err) {
    throw tokenError(p, err);
  }
}

export type DevicePoll = { status: 'pending' } | { status: 'slow_down' } | { status: 'done'; tokens: TokenSet; identity: Identity } | { status: 'failed'; error: AppError };

/** One poll of the token endpoint for a device code. */
export async function pollDevice(p: ProviderClient, deviceCode: string): Promise<DevicePoll> {
  const oauth = await oauthLib();
  try {
    const res = await oauth.deviceCodeGrantRequest(p.as, p.client, p.auth, deviceCode, opts(oauth, p));
    const r = await oauth.processDeviceCodeResponse(p.as, p.client, res, { requireIdToken: true } as never);
    return { status: 'done', tokens: tokens(r), identity: await identity(p, r) };
  } catch (err) {
    if (err instanceof oauth.ResponseBodyError) {
      if (err.error === 'authorization_pending') return { status: 'pending' };
      if (err.error === 'slow_down') return { status: 'slow_down' };
      if (err.error === 'expired_token') return { status: 'failed', error: new AppError('oauth_device_code_expired', 410, 'The code expired before it was entered. Start again to get a new code.') };
      if (err.error === 'access_denied') return { status: 'failed', error: new AppError('oauth_denied', 422, 'The sign-in was declined at the provider. Start again and accept the permissions asked for.') };
    }
    if (err instanceof AppError) return { status: 'failed', error: err };
    return { status: 'failed', error: tokenError(p, err) };
  }
}
