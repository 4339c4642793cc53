import { describe, expect, it } from 'vitest';
import { loadConfig, ConfigError } from './config.js';
import { authorizationExtras, parseServerUrl, refreshDueAt, refreshExtras, scopesFor, serversFor } from '../features/connections/oauth/providers.js';

describe('OAuth provider configuration', () => {
  it('offers nothing when no provider is configured', () => {
    expect(loadConfig({}).oauth).toEqual({});
  });
  it('reads Google, Microsoft (tenant default common) and a generic OpenID issuer', () => {
    const c = loadConfig({
      MAILROOM_OAUTH_GOOGLE_CLIENT_ID: 'g-id',
      MAILROOM_OAUTH_GOOGLE_CLIENT_SECRET: 'g-secret',
      MAILROOM_OAUTH_MICROSOFT_CLIENT_ID: 'm-id',
      MAILROOM_OAUTH_OIDC_ISSUER: 'https://id.example.com/realms/mail/',
      MAILROOM_OAUTH_OIDC_CLIENT_ID: 'o-id',
      MAILROOM_OAUTH_OIDC_NAME: 'Example ID',
      MAILROOM_OAUTH_OIDC_SCOPES: 'mail, profile',
      MAILROOM_OAUTH_OIDC_IMAP: 'imaps://mail.example.com',
      MAILROOM_OAUTH_OIDC_SMTP: 'smtp://mail.example.com:587',
    }).oauth;
    expect(c.google).toEqual({ clientId: 'g-id', clientSecret: 'g-secret' });
    expect(c.microsoft).toEqual({ clientId: 'm-id', tenant: 'common' });
    expect(c.oidc).toEqual({
      clientId: 'o-id',
      issuer: 'https://id.example.com/realms/mail',
      name: 'Example ID',
      scopes: ['mail', 'profile'],
      imap: { host: 'mail.example.com', port: 993, tls: 'tls' },
      smtp: { host: 'mail.example.com', port: 587, tls: 'starttls' },
    });
    expect(scopesFor('oidc', c)).toEqual(['openid', 'email', 'offline_access', 'mail', 'profile']);
    expect(scopesFor('microsoft', c)).toContain('https://outlook.office.com/SMTP.Send');
    expect(scopesFor('google', c)).toContain('https://mail.google.com/');
    expect(serversFor('microsoft', c).smtp).toEqual({ host: 'smtp.office365.com', port: 587, tls: 'starttls' });
  });
  it.each([
    [{ MAILROOM_OAUTH_GOOGLE_CLIENT_ID: 'x' }, 'MAILROOM_OAUTH_GOOGLE_CLIENT_SECRET'],
    [{ MAILROOM_OAUTH_MICROSOFT_CLIENT_SECRET: 'x' }, 'MAILROOM_OAUTH_MICROSOFT_CLIENT_ID'],
    [{ MAILROOM_OAUTH_OIDC_ISSUER: 'https://id.example.com' }, 'MAILROOM_OAUTH_OIDC_CLIENT_ID'],
    [{ MAILROOM_OAUTH_OIDC_ISSUER: 'http://id.example.com', MAILROOM_OAUTH_OIDC_CLIENT_ID: 'x' }, 'MAILROOM_OAUTH_OIDC_ISSUER'],
    [{ MAILROOM_OAUTH_OIDC_ISSUER: 'https://id.example.com', MAILROOM_OAUTH_OIDC_CLIENT_ID: 'x' }, 'MAILROOM_OAUTH_OIDC_IMAP'],
    [{ MAILROOM_OAUTH_OIDC_ISSUER: 'https://id.example.com', MAILROOM_OAUTH_OIDC_CLIENT_ID: 'x', MAILROOM_OAUTH_OIDC_IMAP: 'pop3://x' }, 'MAILROOM_OAUTH_OIDC_IMAP'],
    [{ MAILROOM_OAUTH_MICROSOFT_CLIENT_ID: 'x', MAILROOM_OAUTH_MICROSOFT_TENANT: 'a/b' }, 'MAILROOM_OAUTH_MICROSOFT_TENANT'],
  ])('refuses %j naming %s', (env, variable) => {
    let err: unknown;
    try {
      loadConfig(env);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).variable).toBe(variable);
  });
});

describe('mail server URLs', () => {
  it.each([
    ['imaps://h', 'imap', { host: 'h', port: 993, tls: 'tls' }],
    ['imap://h:1143', 'imap', { host: 'h', port: 1143, tls: 'starttls' }],
    ['imap://127.0.0.1:2000?tls=none', 'imap', { host: '127.0.0.1', port: 2000, tls: 'none' }],
    ['smtps://h', 'smtp', { host: 'h', port: 465, tls: 'tls' }],
    ['smtp://h', 'smtp', { host: 'h', port: 587, tls: 'starttls' }],
    ['http://h', 'smtp', null],
    ['nonsense', 'imap', null],
  ] as const)('%s', (raw, kind, expected) => {
    expect(parseServerUrl(raw, kind)).toEqual(expected);
  });
});

describe('refresh timing', () => {
  it.each([
    [3600, 2880_000],
    [undefined, 2880_000],
    [60, 30_000],
    [10, 0],
  ])('expires_in %s: refreshed after %i ms', (expiresIn, after) => {
    expect(refreshDueAt(1000, expiresIn) - 1000).toBe(after);
  });
});

describe('provider presets', () => {
  const config = loadConfig({ MAILROOM_OAUTH_GOOGLE_CLIENT_ID: 'g', MAILROOM_OAUTH_GOOGLE_CLIENT_SECRET: 's', MAILROOM_OAUTH_MICROSOFT_CLIENT_ID: 'm' }).oauth;
  it.each([
    ['google', {}],
    ['microsoft', { scope: 'openid email offline_access https://outlook.office.com/IMAP.AccessAsUser.All https://outlook.office.com/SMTP.Send' }],
  ] as const)('%s refresh parameters (Microsoft repeats the scopes)', (provider, extras) => {
    expect(refreshExtras(provider, config)).toEqual(extras);
  });
  it('Google asks for offline access with consent (else no refresh token); hosts are the providers\' own', () => {
    expect(authorizationExtras('google')).toEqual({ access_type: 'offline', prompt: 'consent' });
    expect(serversFor('google', config)).toEqual({ imap: { host: 'imap.gmail.com', port: 993, tls: 'tls' }, smtp: { host: 'smtp.gmail.com', port: 465, tls: 'tls' } });
    expect(serversFor('microsoft', config).imap).toEqual({ host: 'outlook.office365.com', port: 993, tls: 'tls' });
  });
});
