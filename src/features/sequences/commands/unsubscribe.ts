/**
 * Unsubscribe links of sequence email (RFC 8058 one-click: `List-Unsubscribe` with an https URL and
 * `List-Unsubscribe-Post: List-Unsubscribe=One-Click`). The URL carries the enrollment id and an HMAC of
 * it, so it cannot be forged or pointed at another enrollment. Unsubscribing stops the enrollment and
 * keeps the address from being enrolled again.
 */
import crypto from 'node:crypto';
import type { CommandEnv } from '../../../platform/context.js';
import { liveEnrollmentsOf, transition } from '../lifecycle.js';

const secretOf = (env: CommandEnv) => env.secrets.derive('sequence-unsubscribe');

function mac(env: CommandEnv, enrollmentId: string): string {
  return crypto.createHmac('sha256', secretOf(env)).update(`unsubscribe\0${enrollmentId}`).digest().subarray(0, 16).toString('base64url');
}

export function unsubscribeToken(env: CommandEnv, enrollmentId: string): string {
  return `${Buffer.from(enrollmentId).toString('base64url')}.${mac(env, enrollmentId)}`;
}

export function readUnsubscribeToken(env: CommandEnv, token: string): string | null {
  const m = /^([A-Za-z0-9_-]{1,200})\.([A-Za-z0-9_-]{22})$/.exec(token);
  if (!m) return null;
  const id = Buffer.from(m[1]!, 'base64url').toString('utf8');
  const expected = Buffer.from(mac(env, id));
  const given = Buffer.from(m[2]!);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? id : null;
}

export function unsubscribeUrl(env: CommandEnv, enrollmentId: string): string {
  const base = env.settings.publicUrl.replace(/\/+$/, '');
  return `${base}/unsubscribe/${unsubscribeToken(env, enrollmentId)}`;
}

/** Applies an unsubscribe link: false for a forged or unknown token (already unsubscribed is true). */
export async function unsubscribe(env: CommandEnv, token: string): Promise<boolean> {
  const id = readUnsubscribeToken(env, token);
  if (!id) return false;
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const e = await trx.selectFrom('sequence_enrollments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!e) return false;
    await trx
      .insertInto('sequence_suppressions')
      .values({ account_id: e.account_id, email_key: e.contact_email, reason: 'unsubscribed', enrollment_id: e.id, at: now })
      .onConflict((oc) => oc.columns(['account_id', 'email_key']).doNothing())
      .execute();
    // The contact's live enrollment (this one, or a later one) stops.
    for (const live of await liveEnrollmentsOf(trx, e.account_id, [e.contact_id])) await transition(trx, live, { type: 'stop', reason: 'unsubscribed' }, now, { data: { via: 'link', enrollmentId: e.id } });
    return true;
  });
}
