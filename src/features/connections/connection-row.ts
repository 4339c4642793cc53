import type { ConnectionsTable } from '../../platform/database/schema.js';

/**
 * The columns of a new connection that start empty (no progress, no sender name or signature, no send
 * limits, no forwarding check yet): the one list, used by `connectEmail`, the demo data and the test factory.
 */
export const NEW_CONNECTION_COLUMNS = {
  progress_done: 0,
  progress_total: null,
  sender_name_custom: null,
  signature: null,
  send_limit_day: null,
  send_limit_minute: null,
  forwarding_test_token: null,
  forwarding_test_requested_at: null,
  forwarding_test_sent_at: null,
  forwarding_test_error: null,
  forwarding_verified_at: null,
  listening: null,
  listening_since: null,
  server_files_sent: null,
} as const satisfies Partial<ConnectionsTable>;
