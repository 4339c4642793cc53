/**
 * Typed routes: a JSON-schema type provider for Fastify, so a handler's `req.body`, `req.query` and
 * `req.params` have the types their schemas describe, without casts.
 *
 * No type provider package is installed (`@fastify/type-provider-json-schema-to-ts` and
 * `json-schema-to-ts` are not dependencies), so `FromSchema` below is a small one of our own. It covers
 * what the API's schemas use: `type` (one or a list, `null` included), `enum`, `properties`,
 * `required`, `items`, `additionalProperties`, and `default` (Fastify validates with ajv's
 * `useDefaults`, so a property with a default is always present after validation). Anything else
 * (`$ref`, `oneOf`...) reads as `unknown`, which forces the handler to check it.
 *
 * Schemas must be literal types: write them inline in the route options (Fastify infers them with a
 * `const` type parameter) or declare them `as const`.
 *
 * Responses are not typed (the serializer side is `unknown`): handlers return views built by the
 * features, which Fastify's serializer shapes from the response schema at run time.
 */
import type {
  FastifyBaseLogger,
  FastifyInstance,
  FastifyTypeProvider,
  RawReplyDefaultExpression,
  RawRequestDefaultExpression,
  RawServerDefault,
} from 'fastify';

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type TypeNameOf<S> = S extends { readonly type: infer T } ? (T extends readonly (infer U)[] ? U : T) : never;

type FromTypeName<S, T> = T extends 'string'
  ? string
  : T extends 'integer' | 'number'
    ? number
    : T extends 'boolean'
      ? boolean
      : T extends 'null'
        ? null
        : T extends 'array'
          ? ArrayOf<S>
          : T extends 'object'
            ? ObjectOf<S>
            : unknown;

type ArrayOf<S> = S extends { readonly items: infer I } ? Array<FromSchema<I>> : unknown[];

type PropertiesOf<S> = S extends { readonly properties: infer P } ? P : Record<never, never>;
type RequiredOf<S> = S extends { readonly required: readonly (infer K)[] } ? K : never;
/** Properties with a default are filled in by validation, so they are always there. */
type DefaultedOf<P> = { [K in keyof P]: P[K] extends { readonly default: unknown } ? K : never }[keyof P];

type ExtraOf<S> = S extends { readonly additionalProperties: false }
  ? Record<never, never>
  : S extends { readonly additionalProperties: true }
    ? Record<string, unknown>
    : S extends { readonly additionalProperties: infer A extends object }
      ? Record<string, FromSchema<A>>
      : keyof PropertiesOf<S> extends never
        ? Record<string, unknown>
        : Record<never, never>;

type ObjectOf<S, P = PropertiesOf<S>, R = RequiredOf<S> | DefaultedOf<P>> = Simplify<
  { -readonly [K in keyof P as K extends R ? K : never]: FromSchema<P[K]> } & {
    -readonly [K in keyof P as K extends R ? never : K]?: FromSchema<P[K]>;
  } & ExtraOf<S>
>;

/** The TypeScript type of the values a JSON schema (a literal type) accepts. */
export type FromSchema<S> = S extends { readonly enum: readonly (infer E)[] }
  ? E | (S extends { readonly type: readonly unknown[] } ? ('null' extends TypeNameOf<S> ? null : never) : never)
  : S extends { readonly type: unknown }
    ? FromTypeName<S, TypeNameOf<S>>
    : unknown;

/** Fastify's hook for typing requests from their schemas. */
export interface JsonSchemaTypeProvider extends FastifyTypeProvider {
  readonly validator: FromSchema<this['schema']>;
  readonly serializer: unknown;
}

/** The Fastify instance a feature's routes are registered on: requests typed from their schemas. */
export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, JsonSchemaTypeProvider>;

/** A feature's routes: an encapsulated Fastify plugin with typed requests. */
export type ApiRoutes = (app: ApiApp) => Promise<void>;

/** The same instance, with requests typed from their schemas. */
export function typed(app: FastifyInstance): ApiApp {
  return app.withTypeProvider<JsonSchemaTypeProvider>();
}
