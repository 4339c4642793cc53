import type { Actor, CommandEnv } from '../../../platform/context.js';
import { loadOwnPersonalEmail, personalEmailViews, type PersonalEmailView } from '../queries.js';

/** One email the actor sent or scheduled from the CRM, with its state and tracking counts (bots excluded). */
export async function getPersonalEmail(env: CommandEnv, actor: Actor, personalEmailId: string): Promise<PersonalEmailView> {
  const row = await loadOwnPersonalEmail(env.db, actor, personalEmailId);
  return (await personalEmailViews(env.db, [row]))[0]!;
}
