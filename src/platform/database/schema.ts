import type { ColumnType, Generated } from 'kysely';
/*
 * Enum-like text columns are typed as the unions their owners define, next to their rules (type-only
 * imports: nothing of a feature is loaded by the platform; the constants stay the one list).
 */
import type { PlanId } from '../../features/accounts/domain/plans.js';
import type { Role, Seat, UserState } from '../../features/accounts/domain/users.js';
import type { TimelineKind } from '../../features/crm/domain/contacts.js';
import type { ConnectionType, Transport } from '../../features/connections/domain/connection-rules.js';
import type { MessageKind } from '../../features/ingest/domain/classify.js';
import type { ConversationStatus } from '../../features/inbox/domain/status.js';
import type { SenderList } from '../../features/inbox/domain/sender-lists.js';
import type { OutboxState } from '../../features/outbox/domain/states.js';
import type { LogRule } from '../../features/personal/domain/logging.js';
import type { TemplateKind } from '../../features/personal/domain/templates.js';
import type { MessageDirection, MessageSource } from '../../mail/ingest-port.js';
import type { TrackingKind } from '../security/tracking-signature.js';
import type { JobState } from '../jobs/queue.js';
import type { DeliveryState } from '../../features/webhooks/domain/delivery.js';

/** Row types of every table, as Kysely sees them. Timestamps are epoch milliseconds. */

export interface AccountsTable {
  id: string;
  name: string;
  plan: PlanId;
  settings: string;
  created_at: number;
}

export interface TeamsTable {
  id: string;
  account_id: string;
  name: string;
  created_at: number;
}

export interface UsersTable {
  id: string;
  account_id: string;
  email: string;
  email_key: string;
  name: string;
  password_hash: string | null;
  role: Role;
  seat: Seat;
  state: UserState;
  perm_personal_email: number;
  perm_account_access: number;
  perm_availability: number;
  primary_team_id: string | null;
  availability: string;
  working_hours: string | null;
  settings: string;
  created_at: number;
  state_changed_at: number | null;
}

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
  account_id: string;
}

export interface ApiTokensTable {
  id: string;
  account_id: string;
  user_id: string;
  name: string;
  token_hash: string;
  created_at: number;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface SessionsTable {
  id_hash: string;
  account_id: string;
  user_id: string;
  csrf_token: string;
  created_at: number;
  expires_at: number;
}

export interface CompaniesTable {
  id: string;
  account_id: string;
  name: string;
  created_at: number;
  updated_at: number;
  /** Folded name (002-crm): import matches companies by it; lists sort by it. */
  name_key: string;
  /** Folded name and domains (002-crm). */
  search_text: string;
}

export interface CompanyDomainsTable {
  account_id: string;
  domain: string;
  company_id: string;
}

export interface ContactsTable {
  id: string;
  account_id: string;
  first_name: string;
  last_name: string;
  owner_id: string | null;
  company_id: string | null;
  source: string;
  created_at: number;
  updated_at: number;
  /** Folded names, emails and company name (002-crm). */
  search_text: string;
  /** Folded "last first", or the primary email when there is no name (002-crm). */
  sort_name: string;
  /** The contact's IANA time zone, or null when unknown (029); sequences schedule in it. */
  time_zone: string | null;
}

export interface ContactEmailsTable {
  account_id: string;
  email_key: string;
  email: string;
  contact_id: string;
  is_primary: number;
  bounced_at: number | null;
  bounce_reason: string | null;
}

export interface TimelineEventsTable {
  id: string;
  account_id: string;
  contact_id: string;
  kind: TimelineKind;
  occurred_at: number;
  actor_user_id: string | null;
  ref_type: string | null;
  ref_id: string | null;
  data: string;
}

export interface AuditEventsTable {
  id: string;
  account_id: string;
  actor_user_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  data: string;
  created_at: number;
}

export interface NotificationsTable {
  id: string;
  account_id: string;
  user_id: string;
  kind: string;
  message: string;
  data: string;
  created_at: number;
  read_at: number | null;
  /** 008: when it went out in a notification email (null: not emailed, or email is off). */
  emailed_at?: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface JobsTable {
  id: string;
  queue: string;
  kind: string;
  payload: string;
  dedupe_key: string | null;
  state: JobState;
  run_at: number;
  attempts: number;
  max_attempts: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
}

export interface LeasesTable {
  name: string;
  holder: string;
  expires_at: number;
}

export interface InboxesTable {
  id: string;
  account_id: string;
  name: string;
  access: string;
  settings: string;
  created_at: number;
  deleted_at: number | null;
}

/** connections.state; the lifecycle (and its transition table) is src/features/connections/lifecycle.ts. */
export type ConnectionStateColumn = 'syncing' | 'active' | 'error' | 'auth_failed' | 'needs_reauth' | 'disconnected';
/** connections.stage; see src/features/connections/lifecycle.ts. */
export type ConnectionStageColumn = 'initial_sync_queued' | 'initial_sync';

export interface ConnectionsTable {
  id: string;
  account_id: string;
  type: ConnectionType;
  address: string;
  address_key: string;
  user_id: string;
  inbox_id: string | null;
  transport: Transport;
  state: ConnectionStateColumn;
  stage: ConnectionStageColumn | null;
  stage_started_at: number | null;
  progress_done: number;
  progress_total: number | null;
  failure_count: number;
  last_error_code: string | null;
  last_error_message: string | null;
  last_error_at: number | null;
  imap_host: string | null;
  imap_port: number | null;
  imap_tls: string | null;
  imap_username: string | null;
  smtp_host: string | null;
  smtp_port: number | null;
  smtp_tls: string | null;
  smtp_username: string | null;
  credentials: string | null;
  sent_folder: string | null;
  /** Does the SMTP server file what it sends in sent_folder by itself (Gmail, Microsoft 365)? 1, 0, or null until seen (028). */
  server_files_sent: number | null;
  folders: string;
  sync_window_days: number | null;
  is_default_from: number;
  use_for_meetings: number;
  forwarding_address: string | null;
  sender_name_mode: string | null;
  sender_name_custom: string | null;
  signature: string | null;
  send_limit_day: number | null;
  send_limit_minute: number | null;
  created_at: number;
  updated_at: number;
  disconnected_at: number | null;
  disconnected_by: string | null;
  /** 009: the pending forwarding test (token in its header), when it was asked for, sent, failed, verified. */
  forwarding_test_token: string | null;
  forwarding_test_requested_at: number | null;
  forwarding_test_sent_at: number | null;
  forwarding_test_error: string | null;
  forwarding_verified_at: number | null;
  /** 011: 'live' | 'polling' | 'waiting' | null, written on a change of state only (see the mailbox supervisor). */
  listening: string | null;
  listening_since: number | null;
}

export interface ConversationsTable {
  id: string;
  account_id: string;
  /** The kind of address it came in on. */
  kind: ConnectionType;
  inbox_id: string | null;
  connection_id: string;
  owner_user_id: string | null;
  subject: string;
  base_subject: string;
  status: ConversationStatus;
  snoozed_until: number | null;
  assignee_id: string | null;
  contact_id: string | null;
  participants: string;
  message_count: number;
  last_message_at: number;
  last_inbound_at: number | null;
  created_at: number;
  updated_at: number;
  deleted_at: number | null;
}

export interface MessagesTable {
  id: string;
  account_id: string;
  connection_id: string;
  conversation_id: string | null;
  dedupe_key: string;
  direction: MessageDirection;
  source: MessageSource;
  raw_sha256: string;
  size: number;
  message_id: string | null;
  in_reply_to: string | null;
  references: string;
  subject: string;
  from_address: string | null;
  from_name: string | null;
  to: string;
  cc: string;
  reply_to: string;
  sent_at: number | null;
  received_at: number;
  text_body: string | null;
  html_sha256: string | null;
  snippet: string;
  attachments: string;
  classification: MessageKind;
  classification_detail: string;
  malformed: string;
  outbox_id: string | null;
  created_at: number;
  /** SPF, DKIM, DMARC and ARC verified on arrival by inbound SMTP (JSON, src/mail/sender-auth.ts); null: not verified. */
  sender_auth: string | null;
}

export interface PackedBlobsTable {
  sha256: string;
  /** Pack file, relative to the blob folder. */
  pack: string;
  offset: number;
  length: number;
  created_at: number;
}

export interface MessageLocationsTable {
  connection_id: string;
  folder: string;
  uidvalidity: number;
  uid: number;
  message_id: string;
  expunged_at: number | null;
}

/**
 * 012: every Message-ID a stored message carries or names (own, In-Reply-To, References) → the conversation
 * of the messages linked through it; an id no stored message carries is a placeholder ("ghost") for a
 * message never seen.
 */
export interface ThreadIdsTable {
  connection_id: string;
  message_id: string;
  conversation_id: string;
}

export interface FolderStatesTable {
  connection_id: string;
  folder: string;
  uidvalidity: number;
  highest_uid: number;
  lowest_uid: number | null;
  window_floor_uid: number | null;
  initial_done: number;
  highest_modseq: string | null;
  message_count: number;
  last_synced_at: number | null;
}

export interface SkippedMessagesTable {
  connection_id: string;
  folder: string;
  uidvalidity: number;
  uid: number;
  size: number;
  reason: string;
  created_at: number;
}

export interface OutboxTable {
  id: string;
  account_id: string;
  connection_id: string;
  user_id: string;
  conversation_id: string | null;
  message_id: string;
  envelope: string;
  raw_sha256: string;
  state: OutboxState;
  send_at: number;
  attempts: number;
  attempt_started_at: number | null;
  sent_at: number | null;
  smtp_response: string | null;
  last_error: string | null;
  appended_to_sent: number;
  meta: string;
  created_at: number;
}

/** Where a conversation stands with its inbox's service-level targets (026-sla; src/features/inbox/sla.ts). */
export interface ConversationSlaTable {
  conversation_id: string;
  account_id: string;
  inbox_id: string;
  cycle_started_at: number | null;
  first_response_due_at: number | null;
  first_response_met_at: number | null;
  /** 1 breached, 0 not (yet); null: no such target in this cycle. */
  first_response_breached: number | null;
  resolution_due_at: number | null;
  resolution_met_at: number | null;
  resolution_breached: number | null;
  /** 'snoozed' | 'waiting_on_customer' | null */
  paused: string | null;
  next_due_at: number | null;
  /** When the assignee was told (once per cycle and target; reset when a new cycle starts). */
  first_response_soon_notified_at: number | null;
  first_response_breach_notified_at: number | null;
  resolution_soon_notified_at: number | null;
  resolution_breach_notified_at: number | null;
  updated_at: number;
}

/** Users and teams listed on a restricted inbox (005-inbox). */
export interface InboxMembersTable {
  inbox_id: string;
  account_id: string;
  member_type: string;
  member_id: string;
  created_at: number;
}

/** The routing rule of one team address, with the round-robin pointer (005-inbox). */
export interface RoutingRulesTable {
  connection_id: string;
  account_id: string;
  inbox_id: string;
  rule: string;
  rr_last_user_id: string | null;
  updated_at: number;
  updated_by: string | null;
}

/** Open conversations waiting for someone eligible under their routing rule (005-inbox). */
export interface RoutingBacklogTable {
  conversation_id: string;
  account_id: string;
  inbox_id: string;
  reason: string;
  since: number;
}

/** Allow and deny list entries of an inbox (005-inbox). */
export interface InboxSenderListsTable {
  id: string;
  account_id: string;
  inbox_id: string;
  list: SenderList;
  pattern: string;
  created_at: number;
  created_by: string | null;
}

/** Comments, assignments (with the routing reasons), status changes and moves of a conversation (005-inbox). */
export interface ConversationActivityTable {
  id: string;
  account_id: string;
  conversation_id: string;
  kind: string;
  actor_user_id: string | null;
  data: string;
  created_at: number;
}

/** One search document per message; FTS5 on SQLite, GIN-indexed on PostgreSQL (005-inbox, store/inbox-search.ts). */
export interface MessageSearchTable {
  message_id: string;
  account_id: string;
  doc: string;
}

/** 007-templates: a saved email template or snippet. */
export interface EmailTemplatesTable {
  id: string;
  account_id: string;
  owner_user_id: string;
  kind: TemplateKind;
  name: string;
  subject: string;
  html: string;
  shortcut: string | null;
  shared: number;
  created_at: number;
  updated_at: number;
}

/** 006-personal: a user's personal email defaults. */
export interface EmailPreferencesTable {
  user_id: string;
  account_id: string;
  log_emails: number;
  track_opens: number;
  track_clicks: number;
  /** JSON {family, sizePx, color} or null. */
  font: string | null;
  signature: string | null;
  /** JSON [{kind: 'address' | 'domain', value}]. */
  never_log: string;
  updated_at: number;
}

/** 006-personal: the account's logging rule and never-log list. */
export interface AccountEmailSettingsTable {
  account_id: string;
  log_rule: LogRule;
  create_contacts: number;
  never_log: string;
  updated_at: number;
}

/** 006-personal: each user's BCC / forwarding logging address. */
export interface LoggingAddressesTable {
  address: string;
  account_id: string;
  user_id: string;
  created_at: number;
}

/** 006-personal: an email a user sent (or scheduled) from a contact's record. */
export interface PersonalEmailsTable {
  id: string;
  account_id: string;
  user_id: string;
  connection_id: string;
  outbox_id: string;
  conversation_id: string | null;
  /** The contact's record it was written from; null once that contact was deleted (011). */
  contact_id: string | null;
  company_id: string | null;
  subject: string;
  logged: number;
  log_contact_ids: string;
  track_opens: number;
  track_clicks: number;
  link_count: number;
  replaced_by: string | null;
  created_at: number;
}

/** 006-personal: a rewritten link and the destination stored for it. */
export interface TrackingLinksTable {
  id: string;
  account_id: string;
  personal_email_id: string;
  position: number;
  url: string;
}

/** 006-personal: an open or click (flagged when it looks like a bot or prefetch). */
export interface TrackingHitsTable {
  id: string;
  account_id: string;
  personal_email_id: string;
  link_id: string | null;
  kind: TrackingKind;
  occurred_at: number;
  method: string;
  ip: string | null;
  user_agent: string | null;
  flagged: number;
  flag_reasons: string;
  implied_by: string | null;
  processed_at: number | null;
}

/** 006-personal: contacts (and company) a logged personal conversation is associated with. */
export interface LoggedConversationsTable {
  conversation_id: string;
  contact_id: string;
  account_id: string;
  company_id: string | null;
  personal_email_id: string | null;
  created_at: number;
}


/** Domain events, recorded in the transaction of their change (src/platform/events.ts). */
export interface EventsTable {
  /** Recording order: events of one subject are delivered in this order. */
  seq: Generated<number>;
  id: string;
  account_id: string;
  type: string;
  subject_type: string;
  subject_id: string;
  data: string;
  created_at: number;
  /** When the webhooks feature fanned it out to the endpoints (null: not yet). */
  published_at: number | null;
}

/** Webhook endpoints of an account (the webhooks feature). */
export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  description: string;
  /** JSON array of event types, or ["*"] for every type. */
  event_types: string;
  enabled: number;
  /** The whsec_ signing secret, sealed. */
  secret: string;
  disabled_reason: string | null;
  created_by: string | null;
  created_at: number;
  updated_at: number;
  /** After a rotation, the previous secret (sealed): it signs too until `previous_secret_until` (019). */
  previous_secret: string | null;
  previous_secret_until: number | null;
  /** thin (ids and changed fields) or full (the object in data.object, loaded at delivery time) (019). */
  payload: string;
  /** The first failed attempt since the last 2xx, null when the last attempt succeeded (019). */
  failing_since: number | null;
}

/** Webhook settings of an account (019); absent: the defaults. */
export interface WebhookSettingsTable {
  account_id: string;
  log_retention_days: number;
  updated_at: number;
}

/** One event to one endpoint: its id is the stable `webhook-id`. */
export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  endpoint_id: string;
  event_id: string;
  event_seq: number;
  /** subject_type:subject_id: deliveries of one key to one endpoint go out in event_seq order. */
  ordering_key: string;
  state: DeliveryState;
  attempts: number;
  next_attempt_at: number | null;
  last_status: number | null;
  last_error: string | null;
  created_at: number;
  finished_at: number | null;
  /** The worker sending it now, and until when its lease holds (an expired lease is claimable again). */
  locked_by: string | null;
  locked_until: number | null;
}

/** Each HTTP attempt of a delivery (the delivery log). */
export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  endpoint_id: string;
  account_id: string;
  attempt: number;
  started_at: number;
  latency_ms: number;
  status: number | null;
  error: string | null;
  response_body: string | null;
  request_headers: string;
}

export interface DB {
  conversations: ConversationsTable;
  messages: MessagesTable;
  message_locations: MessageLocationsTable;
  thread_ids: ThreadIdsTable;
  packed_blobs: PackedBlobsTable;
  folder_states: FolderStatesTable;
  skipped_messages: SkippedMessagesTable;
  outbox: OutboxTable;
  inboxes: InboxesTable;
  connections: ConnectionsTable;
  leases: LeasesTable;
  accounts: AccountsTable;
  teams: TeamsTable;
  users: UsersTable;
  team_members: TeamMembersTable;
  api_tokens: ApiTokensTable;
  sessions: SessionsTable;
  companies: CompaniesTable;
  company_domains: CompanyDomainsTable;
  contacts: ContactsTable;
  contact_emails: ContactEmailsTable;
  timeline_events: TimelineEventsTable;
  audit_events: AuditEventsTable;
  notifications: NotificationsTable;
  jobs: JobsTable;
  inbox_members: InboxMembersTable;
  routing_rules: RoutingRulesTable;
  routing_backlog: RoutingBacklogTable;
  inbox_sender_lists: InboxSenderListsTable;
  conversation_activity: ConversationActivityTable;
  conversation_sla: ConversationSlaTable;
  message_search: MessageSearchTable;
  email_preferences: EmailPreferencesTable;
  account_email_settings: AccountEmailSettingsTable;
  logging_addresses: LoggingAddressesTable;
  personal_emails: PersonalEmailsTable;
  tracking_links: TrackingLinksTable;
  tracking_hits: TrackingHitsTable;
  logged_conversations: LoggedConversationsTable;
  email_templates: EmailTemplatesTable;
  events: EventsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  webhook_settings: WebhookSettingsTable;
}
