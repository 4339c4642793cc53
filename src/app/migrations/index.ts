import type { Migration } from 'kysely';
import * as m001 from './001-platform.js';
import * as m002 from './002-crm.js';
import * as m003 from './003-connections.js';
import * as m004 from './004-mail.js';
import * as m005 from './005-inbox.js';
import * as m006 from './006-personal.js';
import * as m007 from './007-templates.js';
import * as m008 from './008-notification-email.js';
import * as m009 from './009-forwarding-check.js';
import * as m010 from './010-packed-blobs.js';
import * as m011 from './011-personal-email-contact-nullable.js';
import * as m012 from './012-listening.js';
import * as m013 from './013-events-webhooks.js';
import * as m014 from './014-thread-ids.js';
import * as m015 from './015-oauth.js';
import * as m016 from './016-sequences.js';
import * as m017 from './017-meetings.js';
import * as m018 from './018-conversation-assignee-list.js';
import * as m019 from './019-webhooks-more.js';
import * as m020 from './020-sender-auth.js';
import * as m021 from './021-contact-search-index.js';
import * as m026 from './026-sla.js';
import * as m027 from './027-sign-in-protection.js';
import * as m028 from './028-sent-copy-check.js';
import * as m029 from './029-contact-time-zone.js';
import * as m030 from './030-webhook-delivery-leases.js';
import * as m032 from './032-conversation-snippet-index.js';
import * as m033 from './033-postgres-lz4-bodies.js';
import * as m034 from './034-webhook-index-diet.js';
import * as m035 from './035-sqlite-contentless-search.js';
import * as m036 from './036-events-fillfactor.js';
import * as m038 from './038-outbox-conversation-index.js';
import * as m039 from './039-webhook-deliveries-pg-index-diet.js';
import * as m040 from './040-conversations-contact-index.js';
import * as m041 from './041-sla-active-index.js';

/** Migrations are listed here in order (no directory scanning: works the same under tsx and bundlers). */
export const MIGRATIONS: Record<string, Migration> = {
  '001-platform': m001,
  '002-crm': m002,
  '003-connections': m003,
  '004-mail': m004,
  '005-inbox': m005,
  '006-personal': m006,
  '007-templates': m007,
  '008-notification-email': m008,
  '009-forwarding-check': m009,
  '010-packed-blobs': m010,
  '011-personal-email-contact-nullable': m011,
  '012-listening': m012,
  '013-events-webhooks': m013,
  '014-thread-ids': m014,
  '015-oauth': m015,
  '016-sequences': m016,
  '017-meetings': m017,
  '018-conversation-assignee-list': m018,
  '019-webhooks-more': m019,
  '020-sender-auth': m020,
  '021-contact-search-index': m021,
  '026-sla': m026,
  '027-sign-in-protection': m027,
  '028-sent-copy-check': m028,
  '029-contact-time-zone': m029,
  '030-webhook-delivery-leases': m030,
  '032-conversation-snippet-index': m032,
  '033-postgres-lz4-bodies': m033,
  '034-webhook-index-diet': m034,
  '035-sqlite-contentless-search': m035,
  '036-events-fillfactor': m036,
  '038-outbox-conversation-index': m038,
  '039-webhook-deliveries-pg-index-diet': m039,
  '040-conversations-contact-index': m040,
  '041-sla-active-index': m041,
};

