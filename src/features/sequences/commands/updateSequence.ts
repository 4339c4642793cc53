import type { Actor, CommandEnv } from '../../../platform/context.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import { checkSteps } from '../domain/definition.js';
import { sequencesPolicies } from '../policies.js';
import { countSequences, loadSequence, sequenceViews } from '../queries.js';
import { hasRoom, limitsFor } from '../../accounts/index.js';
import { parseDefinition, type SequenceView } from '../views.js';
import { checkedName, settingsFrom, type SequenceInput } from './createSequence.js';

/**
 * Changes a sequence's name, settings or steps (its owner, or an admin). A change of steps or settings
 * is a new version: contacts already enrolled keep the version they started with; new enrollments get
 * this one. Step ids given back keep their id (A/B assignment and stats follow them).
 */
export async function updateSequence(env: CommandEnv, actor: Actor, id: string, input: SequenceInput): Promise<SequenceView> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const row = await loadSequence(trx, actor.accountId, id);
    authorize(actor, sequencesPolicies.editSequence, { ownerUserId: row.owner_user_id });
    if (row.archived_at !== null) throw new AppError('sequence_archived', 409, 'This sequence is archived. Restore it before changing it.');
    const def = parseDefinition(row.definition);
    const name = input.name !== undefined ? checkedName(input.name) : row.name;
    const settings = input.settings ? settingsFrom(input.settings, def.settings) : def.settings;
    let steps = def.steps;
    if (input.steps) {
      const r = checkSteps(input.steps, () => newId('stp'));
      if (!r.ok) throw invalidRequest(r.message, { field: r.field });
      steps = r.value;
    }
    const definition = JSON.stringify({ steps, settings });
    const changed = definition !== row.definition;
    await trx
      .updateTable('sequences')
      .set({ name, definition, version: changed ? Number(row.version) + 1 : Number(row.version), updated_at: now })
      .where('id', '=', row.id)
      .execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'sequence.updated', targetType: 'sequence', targetId: row.id, data: { newVersion: changed }, at: now });
    const after = await trx.selectFrom('sequences').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    return (await sequenceViews(trx, [after]))[0]!;
  });
}

/** Archives (or restores) a sequence: an archived one takes no new enrollments and does not count against the plan; running enrollments go on. */
export async function archiveSequence(env: CommandEnv, actor: Actor, id: string, archived: boolean): Promise<SequenceView> {
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const row = await loadSequence(trx, actor.accountId, id);
    authorize(actor, sequencesPolicies.editSequence, { ownerUserId: row.owner_user_id });
    if (!archived && row.archived_at !== null) {
      const limits = limitsFor(actor.plan);
      if (!hasRoom(limits.sequences, await countSequences(trx, actor.accountId))) {
        throw new AppError('plan_limit_reached', 409, `The ${limits.name} plan has at most ${limits.sequences} sequences. Archive another one before restoring this one.`, { limit: { name: 'sequences', max: limits.sequences, plan: actor.plan } });
      }
    }
    await trx.updateTable('sequences').set({ archived_at: archived ? now : null, updated_at: now }).where('id', '=', row.id).execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: archived ? 'sequence.archived' : 'sequence.restored', targetType: 'sequence', targetId: row.id, data: {}, at: now });
    const after = await trx.selectFrom('sequences').selectAll().where('id', '=', row.id).executeTakeFirstOrThrow();
    return (await sequenceViews(trx, [after]))[0]!;
  });
}
