import type { CommandEnv } from '../../../platform/context.js';

/** Records that an API token was just used (shown as lastUsedAt). */
export async function markApiTokenUsed(env: CommandEnv, tokenId: string): Promise<void> {
  await env.db.updateTable('api_tokens').set({ last_used_at: env.now() }).where('id', '=', tokenId).execute();
}
