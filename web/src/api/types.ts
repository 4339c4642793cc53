/** Shapes of the public API (see /api/openapi.json). Only what the app reads. */

export type Role = 'super_admin' | 'admin' | 'member';
export type Seat = 'paid' | 'free' | 'view_only';
export type UserState = 'active' | 'deactivated' | 'removed';
export type Availability = 'available' | 'away';

export interface User {
  id: string;
  email: string;
  name: string;
  role: Role;
  seat: Seat;
  state: UserState;
  permissions: { personalEmail: boolean; accountAccess: boolean; availabilityManagement: boolean };
  primaryTeamId: string | null;
  teamIds: string[];
  availability: Availability | string;
  createdAt: string;
}

export interface Session {
  user: User;
  csrfToken: string;
  /** Appended to image-proxy URLs by api/images.ts (the sandboxed email frame sends no cookie). */
  imageProxyToken?: string;
  account: { id: string; name: string; plan: string };
}

export type TlsMode = 'tls' | 'starttls' | 'none';
export interface ServerSettings {
  host: string;
  port: number;
  tls: TlsMode;
  username?: string;
  password: string;
}

export type ConnectionState = 'syncing' | 'active' | 'auth_failed' | 'error' | 'disconnected';
export type SenderNameMode = 'agent_at_inbox' | 'inbox' | 'company' | 'custom';

export interface Connection {
  id: string;
  type: 'personal' | 'team';
  address: string;
  userId: string;
  userName: string | null;
  userState: string | null;
  inboxId: string | null;
  inboxName: string | null;
  transport: 'imap' | 'forwarding';
  state: ConnectionState;
  stage: 'initial_sync_queued' | 'initial_sync' | null;
  progress?: { done: number; total: number | null };
  lastError: { code: string; message: string | null; at: string | null } | null;
  imap: { host: string; port: number; tls: string; username: string } | null;
  smtp: { host: string; port: number; tls: string; username: string } | null;
  sentFolder: string | null;
  isDefaultFrom: boolean;
  useForMeetings: boolean;
  forwardingAddress: string | null;
  /** Team email by forwarding: the last "send test email" check. */
  forwardingCheck?: { state: 'never' | 'sending' | 'waiting' | 'verified' | 'not_received' | 'send_failed'; message: string; sentAt: string | null; verifiedAt: string | null } | null;
  senderName: { mode: SenderNameMode | string; custom: string | null } | null;
  signature: string | null;
  createdAt: string;
  disconnectedAt: string | null;
}

export interface ConnectInput {
  type: 'personal' | 'team';
  address: string;
  inboxId?: string;
  userId?: string;
  transport: 'imap' | 'forwarding';
  imap?: ServerSettings;
  smtp: ServerSettings;
  useForMeetings?: boolean;
}

/** `error.holder` of a 409 address_in_use refusal. */
export interface Holder {
  kind: 'personal' | 'team';
  connectionId?: string;
  userId: string | null;
  userName: string | null;
  userState: UserState | null;
  inboxId: string | null;
  inboxName: string | null;
}

export interface Inbox {
  id: string;
  name: string;
  access: 'everyone' | 'restricted';
  connections: Array<{ id: string; address: string; transport: string; state: string; senderName?: { mode: string; custom: string | null } }>;
  createdAt: string;
}

export interface Contact {
  id: string;
  firstName: string;
  lastName: string;
  name: string;
  primaryEmail: string | null;
  emails: Array<{ email: string; primary: boolean; bouncedAt: string | null; bounceReason: string | null }>;
  ownerId: string | null;
  companyId: string | null;
  company: { id: string; name: string } | null;
  source: string;
  createdAt: string;
  updatedAt: string;
}

export type TimelineKind =
  | 'email_sent'
  | 'email_received'
  | 'email_opened'
  | 'email_clicked'
  | 'email_bounced'
  | 'auto_reply_received'
  | 'meeting'
  | 'note'
  | 'contact_created'
  | 'send_failed';

export interface TimelineEvent {
  id: string;
  kind: TimelineKind | string;
  occurredAt: string;
  actorUserId: string | null;
  refType: string | null;
  refId: string | null;
  data: Record<string, unknown>;
}

export interface ImportReport {
  importId: string;
  dryRun: boolean;
  totalRows: number;
  columns: Record<string, string>;
  ignoredColumns: string[];
  summary: { created: number; updated: number; skipped: number; failed: number };
  companiesCreated: number;
  errors: Array<{ row: number; field: string; code: string; message: string }>;
}
