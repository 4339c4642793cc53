/**
 * Reactions: what features do, inside the same transaction, when something happens in another feature
 * (a message is stored, a send finishes, a user leaves, a contact is deleted).
 *
 * The feature that fires a reaction declares its key here, next to the code that fires it, by interface
 * merging:
 *
 *     declare module '../../platform/reactions.js' {
 *       interface Reactions { messageStored: readonly MessageStoredHook[] }
 *     }
 *
 * and reads the hooks from `env.reactions`. Nothing registers itself: `src/app/features.ts` lists the
 * features and fills every key from their declared reactions, in order (the type checker refuses a key
 * it forgot). A reader learns there what runs when.
 */
// biome-ignore lint/suspicious/noEmptyInterface: filled by interface merging in the features that fire each reaction
export interface Reactions {}
