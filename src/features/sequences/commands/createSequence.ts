import type { Actor, CommandEnv } from '../../../platform/context.js';
import { AppError, invalidRequest } from '../../../platform/errors.js';
import { authorize } from '../../../platform/authorize.js';
import { newId } from '../../../platform/database/ids.js';
import { recordAudit } from '../../../platform/audit.js';
import { PLAN_LIMITS, hasRoom, limitsFor, planAllowing } from '../../accounts/index.js';
import { checkSettings, checkSteps, DEFAULT_SETTINGS, type SequenceDefinition, type SettingsInput, type StepInput } from '../domain/definition.js';
import { holidaysFromIcs } from '../holidays.js';
import { isValidZone, zoneOfWorkingHours } from '../domain/schedule.js';
import { sequencesPolicies } from '../policies.js';
import { countSequences, sequenceViews } from '../queries.js';
import type { SequenceView } from '../views.js';

export interface SequenceInput {
  name?: string;
  settings?: SettingsInput & { holidaysIcs?: string };
  steps?: StepInput[];
}

/** Settings with holidays imported from an ICS file (replacing the list), checked. */
export function settingsFrom(input: SequenceInput['settings'], base: SequenceDefinition['settings']): SequenceDefinition['settings'] {
  const s = { ...(input ?? {}) };
  if (s.holidaysIcs !== undefined) {
    const r = holidaysFromIcs(s.holidaysIcs);
    if (!r.ok) throw invalidRequest(r.message, { field: 'settings.holidaysIcs' });
    s.holidays = [...new Set([...(s.holidays ?? []), ...r.dates])];
  }
  const checked = checkSettings(s, base, isValidZone);
  if (!checked.ok) throw invalidRequest(checked.message, { field: checked.field });
  return checked.value;
}

export function checkedName(name: string | undefined): string {
  const n = (name ?? '').trim();
  if (!n || n.length > 200) throw invalidRequest('Name the sequence (at most 200 characters).', { field: 'name' });
  return n;
}

/** Creates a sequence (steps and settings), within the plan's `sequences` limit. One transaction; audited. */
export async function createSequence(env: CommandEnv, actor: Actor, input: SequenceInput): Promise<SequenceView> {
  authorize(actor, sequencesPolicies.use);
  const name = checkedName(input.name);
  const settings = settingsFrom(input.settings, { ...DEFAULT_SETTINGS, timeZone: zoneOfWorkingHours(actor.user.working_hours) ?? 'UTC' });
  const steps = checkSteps(input.steps ?? [], () => newId('stp'));
  if (!steps.ok) throw invalidRequest(steps.message, { field: steps.field });
  const now = env.now();
  return env.db.transaction().execute(async (trx) => {
    const limits = limitsFor(actor.plan);
    const count = await countSequences(trx, actor.accountId);
    if (!hasRoom(limits.sequences, count)) {
      const upgrade = planAllowing(actor.plan, 'sequences', count + 1);
      throw new AppError(
        'plan_limit_reached',
        409,
        limits.sequences === 0
          ? `Sequences are not in the ${limits.name} plan${upgrade ? `; the ${PLAN_LIMITS[upgrade].name} plan has them` : ''}.`
          : `The ${limits.name} plan has at most ${limits.sequences} sequences. Archive one${upgrade ? `, or upgrade to the ${PLAN_LIMITS[upgrade].name} plan` : ''}.`,
        { limit: { name: 'sequences', max: limits.sequences, plan: actor.plan } },
      );
    }
    const id = newId('seq');
    const definition: SequenceDefinition = { steps: steps.value, settings };
    await trx
      .insertInto('sequences')
      .values({ id, account_id: actor.accountId, owner_user_id: actor.user.id, name, version: 1, definition: JSON.stringify(definition), archived_at: null, created_at: now, updated_at: now })
      .execute();
    await recordAudit(trx, { accountId: actor.accountId, actorUserId: actor.user.id, action: 'sequence.created', targetType: 'sequence', targetId: id, data: { steps: steps.value.length }, at: now });
    const row = await trx.selectFrom('sequences').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    return (await sequenceViews(trx, [row]))[0]!;
  });
}
