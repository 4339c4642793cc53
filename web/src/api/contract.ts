/**
 * Types of the public API, read from the generated contract (schema.d.ts, written by
 * `npm run api:types` from the server's OpenAPI document). The web app names shapes through these
 * helpers instead of writing them by hand, so a server change that the app does not follow fails
 * `npm run typecheck:web`.
 *
 *   type Contact = Ok<'/api/v1/contacts/{id}', 'get'>;
 *   type ContactInput = Body<'/api/v1/contacts', 'post'>;
 */
import type { components, paths } from './schema.js';

export type { components, paths };

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Json<R> = R extends { content: { 'application/json': infer T } } ? T : never;

/** The operation `method path` (paths as in docs/openapi.json, with the /api/v1 prefix). */
export type Operation<P extends keyof paths, M extends Method> = NonNullable<paths[P][M]>;

/** The JSON body of the operation's success answer (200, 201 or 202). */
export type Ok<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer S }
      ? Json<S>
      : R extends { 201: infer S }
        ? Json<S>
        : R extends { 202: infer S }
          ? Json<S>
          : never
    : never;

/** The operation's JSON request body. */
export type Body<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { requestBody?: infer B } ? Json<NonNullable<B>> : never;

/** The operation's query string. */
export type Query<P extends keyof paths, M extends Method> =
  Operation<P, M> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/** The element type of an array type. */
export type Item<A> = A extends ReadonlyArray<infer T> ? T : never;

/** `{"error": {...}}`: every API error. */
export type ErrorBody = components['schemas']['Error'];
