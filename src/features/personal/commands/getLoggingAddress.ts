import crypto from 'node:crypto';
import { makeLoggingAddress } from '../domain/bcc.js';
import { recordAudit } from '../../../platform/audit.js';
import type { Actor, CommandEnv } from '../../../platform/context.js';

/**
 * The actor's BCC / forwarding logging address, created on first use. Mail BCC'd or forwarded to it from
 * one of the actor's own connected addresses is logged to the recipient contacts.
 */
export async function getLoggingAddress(env: CommandEnv, actor: Actor): Promise<{ address: string; acceptsFrom: string[] }> {
  const existing = await env.db.selectFrom('logging_addresses').select('address').where('user_id', '=', actor.user.id).executeTakeFirst();
  let address = existing?.address;
  if (!address) {
    const candidate = makeLoggingAddress(crypto.randomBytes(10).toString('hex'), env.settings.inboundDomain);
    await env.db.transaction().execute(async (trx) => {
      await trx.insertInto('logging_addresses').values({ address: candidate, account_id: actor.accountId, user_id: actor.user.id, created_at: env.now() }).onConflict((oc) => oc.column('user_id').doNothing()).execute();
      await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'logging_address.created', targetType: 'user', targetId: actor.user.id, at: env.now() });
    });
    address = (await env.db.selectFrom('logging_addresses').select('address').where('user_id', '=', actor.user.id).executeTakeFirstOrThrow()).address;
  }
  const own = await env.db.selectFrom('connections').select('address').where('user_id', '=', actor.user.id).where('type', '=', 'personal').where('disconnected_at', 'is', null).orderBy('address').execute();
  return { address, acceptsFrom: own.map((c) => c.address) };
}
