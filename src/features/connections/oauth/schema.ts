/**
 * The tables of OAuth mailboxes (migration 015-oauth), added to the database's types by interface
 * merging: they belong to the connections feature and only it reads them.
 */
export interface OAuthGrantsTable {
  connection_id: string;
  account_id: string;
  provider: string;
  issuer: string;
  subject: string;
  scope: string | null;
  /** Sealed by the secret box. Null once the provider refused it (needs the user). */
  refresh_token: string | null;
  access_expires_at: number;
  refresh_due_at: number;
  transient_failures: number;
  refreshed_at: number | null;
  created_at: number;
  updated_at: number;
}

export interface OAuthFlowsTable {
  id: string;
  account_id: string;
  user_id: string;
  provider: string;
  kind: 'code' | 'device';
  /** JSON: what to connect (OAuthConnectRequest). */
  request: string;
  /** Sealed JSON: PKCE verifier and nonce, or the device code. */
  secret: string;
  user_code: string | null;
  verification_uri: string | null;
  verification_uri_complete: string | null;
  interval_ms: number | null;
  next_poll_at: number | null;
  status: 'pending' | 'connected' | 'failed';
  connection_id: string | null;
  error_code: string | null;
  error_message: string | null;
  expires_at: number;
  used_at: number | null;
  created_at: number;
}

declare module '../../../platform/database/schema.js' {
  interface DB {
    oauth_grants: OAuthGrantsTable;
    oauth_flows: OAuthFlowsTable;
  }
}
