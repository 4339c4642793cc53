/** The reads behind the API, with their permission checks (the sequences of the account; enrollments: your own, or everyone's for an admin). */
import type { Actor, CommandEnv } from '../../../platform/context.js';
import { authorize } from '../../../platform/authorize.js';
import { sequencesPolicies } from '../policies.js';
import { enrollmentHistory, enrollmentSteps, enrollmentViews, listEnrollments, listSequences, loadEnrollment, loadSequence, openTasks, sequenceStats, sequenceViews } from '../queries.js';

export async function getSequences(env: CommandEnv, actor: Actor, q: { archived?: boolean }) {
  return { sequences: await listSequences(env.db, actor, q) };
}

export async function getSequence(env: CommandEnv, actor: Actor, id: string) {
  const row = await loadSequence(env.db, actor.accountId, id);
  const [view] = await sequenceViews(env.db, [row]);
  return { ...view!, stats: await sequenceStats(env.db, row.id) };
}

export async function getEnrollments(env: CommandEnv, actor: Actor, q: { sequenceId?: string; contactId?: string; state?: string; limit?: number }) {
  return { enrollments: await listEnrollments(env.db, actor, q) };
}

export async function getEnrollment(env: CommandEnv, actor: Actor, id: string) {
  const row = await loadEnrollment(env.db, actor, id);
  const [view] = await enrollmentViews(env.db, [row]);
  return { ...view!, history: await enrollmentHistory(env.db, row.id), stepsRun: await enrollmentSteps(env.db, row.id) };
}

export async function getTasks(env: CommandEnv, actor: Actor) {
  authorize(actor, sequencesPolicies.use);
  return { tasks: await openTasks(env.db, actor) };
}
