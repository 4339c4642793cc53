/**
 * The version of this process's credentials: it changes whenever a command here revokes an API token, ends a
 * session or changes a user (state, role, seat, name...). The API's authenticator caches verified tokens and
 * sessions for a moment (src/platform/http/auth.ts) and drops them all when the version moves, so such a
 * change takes effect on the next request. Commands call `credentialsChanged()` after their transaction
 * commits (and at the write too, for a caller's transaction): a lookup that ran before the commit is never
 * kept, because the version moved while it ran.
 */
let version = 0;

export function credentialsVersion(): number {
  return version;
}

export function credentialsChanged(): void {
  version += 1;
}
