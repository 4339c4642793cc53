import { api } from './client.js';
import type { ConnectInput, Connection, SenderNameMode } from './types.js';

export const listConnections = (query: { type?: 'personal' | 'team'; userId?: string; inboxId?: string } = {}) =>
  api.get<{ connections: Connection[] }>('/connections', query).then((r) => r.connections);

export const getConnection = (id: string) => api.get<Connection>(`/connections/${encodeURIComponent(id)}`);

export const connectEmail = (input: ConnectInput) => api.post<Connection>('/connections', input);

export interface ConnectionPatch {
  useForMeetings?: boolean;
  isDefaultFrom?: boolean;
  senderName?: { mode: SenderNameMode; custom?: string | null };
  signature?: string | null;
}
export const updateConnection = (id: string, patch: ConnectionPatch) => api.patch<Connection>(`/connections/${encodeURIComponent(id)}`, patch);

export const disconnectEmail = (id: string) => api.del<Connection>(`/connections/${encodeURIComponent(id)}`);

export type ReleaseAction = 'restore_and_disconnect' | 'disconnect' | 'transfer';
export const releaseConnection = (id: string, action: ReleaseAction, toUserId?: string) =>
  api.post<Connection>(`/connections/${encodeURIComponent(id)}/release`, toUserId ? { action, toUserId } : { action });

/** The fix for a changed password: checked live by the server, then sync resumes where it stopped. */
export const updateCredentials = (id: string, password: string, transport: 'imap' | 'forwarding') =>
  api.post<Connection>(`/connections/${encodeURIComponent(id)}/credentials`, transport === 'imap' ? { imap: { password }, smtp: { password } } : { smtp: { password } });

export const sendForwardingTest = (id: string) => api.post<Connection>(`/connections/${encodeURIComponent(id)}/forwarding-test`, {});
export const syncNow = (id: string) => api.post<Connection>(`/connections/${encodeURIComponent(id)}/sync`, {});
