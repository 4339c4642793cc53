/**
 * The OAuth providers a Mailroom operator can configure (issue 14): Google, Microsoft (Entra ID) and any
 * OpenID Connect issuer (Keycloak, Authentik... in front of a Dovecot). Each preset says where its
 * endpoints are, which scopes it asks for, which flows it supports and which IMAP/SMTP servers its
 * mailboxes use. Pure data and pure functions; the configuration (src/app/config.ts) builds
 * `OAuthProvidersConfig` from environment variables.
 */

export type OAuthProviderId = 'google' | 'microsoft' | 'oidc';
export const OAUTH_PROVIDER_IDS: readonly OAuthProviderId[] = ['google', 'microsoft', 'oidc'];

export interface MailServer {
  host: string;
  port: number;
  tls: 'tls' | 'starttls' | 'none';
}

/** What the operator configured for one provider (environment variables, see the README). */
export interface OAuthClientConfig {
  clientId: string;
  /** Unset: a public client (PKCE, device flow), as Entra allows for "mobile and desktop" registrations. */
  clientSecret?: string;
}

export interface OAuthProvidersConfig {
  google?: OAuthClientConfig;
  microsoft?: OAuthClientConfig & { tenant: string };
  oidc?: OAuthClientConfig & {
    issuer: string;
    /** Shown on the button: "Connect with <name>". */
    name: string;
    /** Scopes asked for besides openid, email and offline_access. */
    scopes: string[];
    imap: MailServer;
    smtp: MailServer;
  };
}

/** Static endpoints of a provider; the generic OpenID provider is discovered from its issuer instead. */
export interface StaticEndpoints {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
  userinfo_endpoint?: string;
  device_authorization_endpoint?: string;
}

export const GOOGLE_SCOPES = ['openid', 'email', 'https://mail.google.com/'];
export const MICROSOFT_SCOPES = ['openid', 'email', 'offline_access', 'https://outlook.office.com/IMAP.AccessAsUser.All', 'https://outlook.office.com/SMTP.Send'];

export const PRESET_SERVERS: Record<'google' | 'microsoft', { imap: MailServer; smtp: MailServer }> = {
  google: { imap: { host: 'imap.gmail.com', port: 993, tls: 'tls' }, smtp: { host: 'smtp.gmail.com', port: 465, tls: 'tls' } },
  microsoft: { imap: { host: 'outlook.office365.com', port: 993, tls: 'tls' }, smtp: { host: 'smtp.office365.com', port: 587, tls: 'starttls' } },
};

export const GOOGLE_ENDPOINTS: StaticEndpoints = {
  issuer: 'https://accounts.google.com',
  authorization_endpoint: 'https://accounts.google.com/o/oauth2/v2/auth',
  token_endpoint: 'https://oauth2.googleapis.com/token',
  jwks_uri: 'https://www.googleapis.com/oauth2/v3/certs',
  userinfo_endpoint: 'https://openidconnect.googleapis.com/v1/userinfo',
};

export function microsoftEndpoints(tenant: string): StaticEndpoints {
  const base = `https://login.microsoftonline.com/${encodeURIComponent(tenant)}`;
  return {
    // Multi-tenant ("common", "organizations"): the ID token's issuer names the user's tenant (tid).
    issuer: `${base}/v2.0`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    token_endpoint: `${base}/oauth2/v2.0/token`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    jwks_uri: `${base}/discovery/v2.0/keys`,
  };
}

/** The scopes asked for by a provider. */
export function scopesFor(provider: OAuthProviderId, config: OAuthProvidersConfig): string[] {
  if (provider === 'google') return GOOGLE_SCOPES;
  if (provider === 'microsoft') return MICROSOFT_SCOPES;
  return [...new Set(['openid', 'email', 'offline_access', ...(config.oidc?.scopes ?? [])])];
}

/** Extra parameters of the authorization request: Google issues a refresh token only with offline access and consent. */
export function authorizationExtras(provider: OAuthProviderId): Record<string, string> {
  if (provider === 'google') return { access_type: 'offline', prompt: 'consent' };
  if (provider === 'microsoft') return { prompt: 'select_account' };
  return { prompt: 'consent' };
}

/** Microsoft wants the scopes again on a refresh (else it returns a token for Graph). */
export function refreshExtras(provider: OAuthProviderId, config: OAuthProvidersConfig): Record<string, string> {
  return provider === 'microsoft' ? { scope: scopesFor(provider, config).join(' ') } : {};
}

/** The IMAP and SMTP servers of a provider's mailboxes. */
export function serversFor(provider: OAuthProviderId, config: OAuthProvidersConfig): { imap: MailServer; smtp: MailServer } {
  if (provider === 'oidc') return { imap: config.oidc!.imap, smtp: config.oidc!.smtp };
  return PRESET_SERVERS[provider];
}

export function isConfigured(provider: OAuthProviderId, config: OAuthProvidersConfig | undefined): boolean {
  return Boolean(config?.[provider]);
}

export function displayName(provider: OAuthProviderId, config: OAuthProvidersConfig | undefined): string {
  return provider === 'google' ? 'Google' : provider === 'microsoft' ? 'Microsoft' : (config?.oidc?.name ?? 'your provider');
}

/**
 * When to refresh an access token: at 80% of its lifetime (at least 30 s before it ends, never in the
 * past). `expiresInS` missing: assume one hour, as Google and Entra issue.
 */
export function refreshDueAt(now: number, expiresInS: number | undefined): number {
  const life = (expiresInS && expiresInS > 0 ? expiresInS : 3600) * 1000;
  return now + Math.max(0, Math.min(Math.floor(life * 0.8), life - 30_000));
}

/** Parses "imaps://host:993", "imap://host:143" (STARTTLS) or "imap://host:143?tls=none" (plain: tests, loopback). */
export function parseServerUrl(raw: string, kind: 'imap' | 'smtp'): MailServer | null {
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    return null;
  }
  const secure = `${kind}s:`;
  if (u.protocol !== secure && u.protocol !== `${kind}:`) return null;
  if (!u.hostname) return null;
  const tls: MailServer['tls'] = u.protocol === secure ? 'tls' : u.searchParams.get('tls') === 'none' ? 'none' : 'starttls';
  const def = kind === 'imap' ? (tls === 'tls' ? 993 : 143) : tls === 'tls' ? 465 : 587;
  const port = u.port ? Number(u.port) : def;
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port, tls };
}
