/**
 * Authorization: one entry point, `authorize(actor, action, subject?)`, for every "may this user do that?".
 *
 * Each feature declares its actions in its `policies.ts` with `definePolicies`: a name and one rule per
 * action. A rule is a pure function of the actor (and of the subject, for actions about one thing: a
 * contact, a connection...) that answers null when the actor may, or the refusal the API shows (403
 * permission_denied with what to do, or 404 where the thing's existence is private, such as another user's
 * personal connection). Actions are values, so a call names exactly one rule and its subject's type is
 * checked: `authorize(actor, crmPolicies.deleteContact, { ownerId })`.
 *
 * Commands call authorize() themselves (the check belongs with the use case); routes call it only to
 * decide what a read shows (`can(actor, connectionPolicies.seeAllPersonal)`).
 */
import type { Actor } from './context.js';
import type { AppError } from './errors.js';

/** null when the actor may; otherwise the refusal to throw. */
export type Rule<S = undefined> = (actor: Actor, subject: S) => AppError | null;

/** Something a user may or may not do, decided by one rule. */
export interface Action<S = undefined> {
  /** `feature.action`, e.g. crm.deleteContact. */
  readonly name: string;
  readonly rule: Rule<S>;
}

type SubjectOf<R> = R extends (actor: Actor, subject: infer S) => unknown ? (unknown extends S ? undefined : S) : never;

/** The subject argument of an action: none for actions about nothing in particular. */
type SubjectArg<S> = [S] extends [undefined] ? [] : [subject: S];

/** A feature's actions, named `<feature>.<key>`, each with its rule. */
export function definePolicies<const R extends Record<string, (actor: Actor, subject: never) => AppError | null>>(
  feature: string,
  rules: R,
): { readonly [K in keyof R & string]: Action<SubjectOf<R[K]>> } {
  const out: Record<string, Action<unknown>> = {};
  for (const [key, rule] of Object.entries(rules)) out[key] = { name: `${feature}.${key}`, rule: rule as Rule<unknown> };
  return out as { readonly [K in keyof R & string]: Action<SubjectOf<R[K]>> };
}

/** The refusal of `action` for this actor (and subject), or null when allowed. */
export function decide<S>(actor: Actor, action: Action<S>, ...subject: SubjectArg<S>): AppError | null {
  return action.rule(actor, subject[0] as S);
}

/** Throws the refusal (an AppError: 403, or 404 where existence is private) unless the actor may. */
export function authorize<S>(actor: Actor, action: Action<S>, ...subject: SubjectArg<S>): void {
  const refusal = decide(actor, action, ...subject);
  if (refusal) throw refusal;
}

/** Whether the actor may: for reads that show more or less, never to refuse. */
export function can<S>(actor: Actor, action: Action<S>, ...subject: SubjectArg<S>): boolean {
  return decide(actor, action, ...subject) === null;
}
