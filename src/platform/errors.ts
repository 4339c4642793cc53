/**
 * The one error shape of the product. Every refusal a user or script can see is an AppError with a
 * stable snake_case code (one of `ErrorCode`), an HTTP status and a message that says what happened
 * and what to do. As an API body it is always
 *
 *   {"error": {"code", "message", "holder"?, "resolution"?, "details"?}}
 *
 * `details` is always an object: `{ field, reason, ... }` for one problem, `{ errors: [...] }` for a
 * list. Nothing else sits beside `code` and `message`, and no stack trace ever leaves the server.
 */

/** Every error code the API and the CLI answer with. A code not listed here does not compile. */
export const ERROR_CODES = [
  // Generic
  'invalid_request',
  'invalid_input',
  'invalid_cursor',
  'not_found',
  // Sign-in protection (issue 21): a growing wait, then a temporary lock; details.retryAt says when it lifts
  'sign_in_delayed',
  'sign_in_locked',
  'permission_denied',
  'conflict',
  'rate_limited',
  'payload_too_large',
  'internal_error',
  'database_unavailable',
  // Sign-in and sessions
  'unauthenticated',
  'invalid_credentials',
  'csrf_token_invalid',
  'user_not_active',
  // Accounts, users and teams
  'email_taken',
  'team_name_taken',
  'invalid_plan',
  'plan_limit_reached',
  'limit_reached',
  'invalid_state_change',
  'last_super_admin',
  'cannot_change_self',
  // Connections
  'address_in_use',
  'team_address_not_allowed_for_meetings',
  'inbox_not_found',
  'host_not_allowed',
  'imap_settings_incorrect',
  'imap_authentication_failed',
  'smtp_settings_incorrect',
  'smtp_authentication_failed',
  'connection_disconnected',
  'connection_not_syncable',
  // Folders of a mailbox (issue 21)
  'folder_not_found',
  'folder_never_synced',
  'mailbox_unreachable',
  'not_forwarding',
  'no_personal_connection',
  'no_team_address',
  // OAuth mailboxes (issue 14)
  'oauth_provider_not_configured',
  'oauth_provider_unreachable',
  'oauth_state_invalid',
  'oauth_denied',
  'oauth_failed',
  'oauth_no_email',
  'oauth_email_not_verified',
  'oauth_address_mismatch',
  'oauth_device_flow_unsupported',
  'oauth_device_code_expired',
  'oauth_reauth_required',
  // CRM
  'owner_not_active',
  'contact_email_taken',
  'company_domain_taken',
  'freemail_domain',
  'csv_invalid',
  'csv_no_email_column',
  'invalid_time_zone',
  // Inbox
  'assignee_not_member',
  'assignee_not_active',
  'invalid_mention',
  // Personal email and templates
  'attachments_too_large',
  'unresolved_tokens',
  'shortcut_in_use',
  'email_not_cancellable',
  // Undo send (issue 21)
  'too_late_to_undo',
  'already_undone',
  // Meetings
  'meetings_connection_required',
  'slot_taken',
  'slug_taken',
  'calendar_unreachable',
  'invalid_link',
  // Sequences
  'team_connection_not_allowed',
  'already_enrolled',
  'contact_not_enrollable',
  'sequence_archived',
  'enrollment_ended',
  'task_not_open',
  // Image proxy
  'image_proxy_busy',
  'image_token_invalid',
  'image_token_expired',
  'invalid_url',
  'scheme_not_allowed',
  'port_not_allowed',
  'host_not_found',
  'too_many_redirects',
  'image_too_large',
  'content_type_not_allowed',
  'not_an_image',
  'upstream_status',
  'upstream_timeout',
  'upstream_unreachable',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** Machine-readable facts about an error; always an object (a list goes under `errors`). */
export type ErrorDetails = Record<string, unknown>;

/** Who holds what the request wanted (e.g. the user or inbox holding the address of `address_in_use`). */
export type ErrorHolder = object;

/** The error object of an API error body. */
export interface ErrorObject {
  code: ErrorCode;
  message: string;
  holder?: ErrorHolder;
  resolution?: string;
  details?: ErrorDetails;
}

/** The body of every API error. */
export interface ErrorBody {
  error: ErrorObject;
}

export interface ErrorExtras {
  /** Who holds the resource (address_in_use names the user or inbox). */
  holder?: ErrorHolder;
  /** What to do next, in a plain sentence. */
  resolution?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: ErrorDetails | undefined;
  readonly holder: ErrorHolder | undefined;
  readonly resolution: string | undefined;

  constructor(code: ErrorCode, status: number, message: string, details?: ErrorDetails, extras: ErrorExtras = {}) {
    super(message);
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.details = details && Object.keys(details).length ? details : undefined;
    this.holder = extras.holder;
    this.resolution = extras.resolution;
  }

  toBody(): ErrorBody {
    return errorBody(this.code, this.message, { holder: this.holder, resolution: this.resolution, details: this.details });
  }
}

/** Builds the one error body; absent parts are left out (never null). */
export function errorBody(code: ErrorCode, message: string, parts: { holder?: ErrorHolder | undefined; resolution?: string | undefined; details?: ErrorDetails | undefined } = {}): ErrorBody {
  const error: ErrorObject = { code, message };
  if (parts.holder) error.holder = parts.holder;
  if (parts.resolution) error.resolution = parts.resolution;
  if (parts.details && Object.keys(parts.details).length) error.details = parts.details;
  return { error };
}

export const notFound = (what: string) =>
  new AppError('not_found', 404, `${what} was not found. Check the id; it may have been deleted or belong to another account.`);

export const permissionDenied = (message: string) => new AppError('permission_denied', 403, message);

export const invalidRequest = (message: string, details?: ErrorDetails) => new AppError('invalid_request', 400, message, details);
