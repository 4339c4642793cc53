import { api } from './client.js';
import type { Body, Ok, Query } from './contract.js';
import type { ConnectInput, Connection } from './types.js';

export const listConnections = (query: Query<'/api/v1/connections', 'get'> = {}) =>
  api.get<Ok<'/api/v1/connections', 'get'>>('/connections', query).then((r) => r.connections);

export const getConnection = (id: string) => api.get<Connection>(`/connections/${encodeURIComponent(id)}`);

export const connectEmail = (input: ConnectInput) => api.post<Connection>('/connections', input);

export type ConnectionPatch = Body<'/api/v1/connections/{id}', 'patch'>;
export const updateConnection = (id: string, patch: ConnectionPatch) => api.patch<Connection>(`/connections/${encodeURIComponent(id)}`, patch);

export const disconnectEmail = (id: string) => api.del<Connection>(`/connections/${encodeURIComponent(id)}`);

export type ReleaseAction = Body<'/api/v1/connections/{id}/release', 'post'>['action'];
export const releaseConnection = (id: string, action: ReleaseAction, toUserId?: string) =>
  api.post<Connection>(`/connections/${encodeURIComponent(id)}/release`, toUserId ? { action, toUserId } : { action });

/** The fix for a changed password: checked live by the server, then sync resumes where it stopped. */
export const updateCredentials = (id: string, password: string, transport: 'imap' | 'forwarding') =>
  api.post<Connection>(`/connections/${encodeURIComponent(id)}/credentials`, transport === 'imap' ? { imap: { password }, smtp: { password } } : { smtp: { password } });

export const sendForwardingTest = (id: string) => api.post<Connection>(`/connections/${encodeURIComponent(id)}/forwarding-test`, {});
export const syncNow = (id: string) => api.post<Connection>(`/connections/${encodeURIComponent(id)}/sync`, {});


// OAuth mailboxes (issue 14)
export type OAuthProvider = Ok<'/api/v1/connections/oauth/providers', 'get'>['providers'][number];
export type OAuthStartInput = Body<'/api/v1/connections/oauth/start', 'post'>;
export type OAuthStart = Ok<'/api/v1/connections/oauth/start', 'post'>;
export type OAuthFlowStatus = Ok<'/api/v1/connections/oauth/flows/{id}/poll', 'post'>;

/** The providers this Mailroom is registered with ("Connect with ..." buttons); empty when none. */
export const listOAuthProviders = () => api.get<Ok<'/api/v1/connections/oauth/providers', 'get'>>('/connections/oauth/providers').then((r) => r.providers ?? []);
/** Code flow: an authorization URL to send the browser to. Device flow: a code and a link to show. */
export const startOAuth = (input: OAuthStartInput) => api.post<OAuthStart>('/connections/oauth/start', input);
/** Device flow: has the user entered the code? (Mailroom's worker asks the provider in the background; this reads the outcome.) */
export const pollOAuth = (flowId: string) => api.post<OAuthFlowStatus>(`/connections/oauth/flows/${encodeURIComponent(flowId)}/poll`, {});
export type PendingOAuthFlow = Ok<'/api/v1/connections/oauth/flows', 'get'>['flows'][number];
/** Device-flow sign-ins still waiting for their code (the page that showed it may have been closed). */
export const listPendingOAuthFlows = () => api.get<Ok<'/api/v1/connections/oauth/flows', 'get'>>('/connections/oauth/flows').then((r) => r.flows ?? []);
/** Code flow: the page the provider sent the browser back to (its whole URL) finishes the connect. */
export const completeOAuth = (url: string) => api.post<Connection>('/connections/oauth/callback', { url });

// Folders of a mailbox (issue 21)
export type ConnectionFolders = Ok<'/api/v1/connections/{id}/folders', 'get'>;
export type ConnectionFolder = ConnectionFolders['folders'][number];
/** The folders (Gmail labels) the mailbox's server lists now, with which are synced. */
export const listFolders = (id: string) => api.get<ConnectionFolders>(`/connections/${encodeURIComponent(id)}/folders`);
/** Sync exactly these folders (INBOX always; spam, trash and drafts are refused). */
export const chooseFolders = (id: string, folders: string[]) => api.put<ConnectionFolders>(`/connections/${encodeURIComponent(id)}/folders`, { folders });
