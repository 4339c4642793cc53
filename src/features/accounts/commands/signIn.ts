import crypto from 'node:crypto';
import { AppError } from '../../../platform/errors.js';
import { generatePassword, hashPassword, hashToken, verifyPassword } from '../../../platform/security/passwords.js';
import type { CommandEnv } from '../../../platform/context.js';
import { recordAudit } from '../../../platform/audit.js';
import { addressKey } from '../../connections/index.js';
import { credentialsChanged } from '../credentials.js';
import { checkSignInAllowed, clearSignInFailures, recordSignInFailure } from '../sign-in-failures.js';

export const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

const invalidCredentials = () =>
  new AppError('invalid_credentials', 401, 'The email or password is not right. Check both and try again; an admin can reset your password.');

/**
 * Checks email and password and opens a browser session. Deactivated and removed users cannot sign in;
 * the message says so, so they know to ask an admin. Every password sign-in (web, API, scripts) comes
 * here, so the per-address cap on failures (sign-in-failures.ts) holds across clients, IPs and processes:
 * a growing wait, then a temporary lock (`sign_in_locked` with `retryAt`), the owner told once per lock;
 * a success resets it.
 */
export async function signIn(env: CommandEnv, input: { email: string; password: string }) {
  const key = addressKey(input.email ?? '');
  const counted = key.ok ? key.key : (input.email ?? '').trim().toLowerCase().slice(0, 320);
  await checkSignInAllowed(env, counted);
  // Same work whether or not the user exists, so timing does not reveal which emails have accounts.
  const user = key.ok ? await env.db.selectFrom('users').selectAll().where('email_key', '=', key.key).executeTakeFirst() : undefined;
  const ok = await verifyPassword(input.password ?? '', user?.password_hash ?? (await dummyHash()));
  if (!user || !ok) {
    // Unknown addresses are counted too (the answers do not tell which addresses have users).
    const locked = await recordSignInFailure(env, counted, user);
    throw locked ?? invalidCredentials();
  }
  await clearSignInFailures(env, counted);
  if (user.state !== 'active') {
    throw new AppError('user_not_active', 403, `This user is ${user.state}. Ask an admin of your account to restore it.`);
  }
  const sessionToken = crypto.randomBytes(32).toString('base64url');
  const csrfToken = crypto.randomBytes(24).toString('base64url');
  const now = env.now();
  await env.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('sessions')
      .values({ id_hash: hashToken(sessionToken), account_id: user.account_id, user_id: user.id, csrf_token: csrfToken, created_at: now, expires_at: now + SESSION_TTL_MS })
      .execute();
    await recordAudit(trx, { accountId: user.account_id, actorUserId: user.id, action: 'user.signed_in', targetType: 'user', targetId: user.id, at: now });
  });
  return { sessionToken, csrfToken, user, expiresAt: now + SESSION_TTL_MS };
}

/** Ends a browser session. */
export async function signOut(env: CommandEnv, sessionToken: string): Promise<void> {
  credentialsChanged();
  await env.db.deleteFrom('sessions').where('id_hash', '=', hashToken(sessionToken)).execute();
  credentialsChanged();
}

// A valid hash of a random password, verified when the email is unknown, so timing does not tell.
let dummy: Promise<string> | null = null;
function dummyHash(): Promise<string> {
  dummy ??= hashPassword(generatePassword());
  return dummy;
}
