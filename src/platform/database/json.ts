/**
 * JSON columns, read with their shape checked. Every text column that holds JSON is read through
 * `readJson(column, value, shape)`: the value is parsed and checked against a small validator, so the
 * caller gets a real `T`, never an unchecked cast. A value that is not JSON or not of the shape either
 * falls back to the default given (where an empty value is a safe answer: a list of addresses, a
 * settings object) or fails with an error naming the column and what was wrong.
 *
 *     const folders = readJson('connections.folders', row.folders, json.stringArray);
 *     const meta = readJson('outbox.meta', row.meta, json.record, {});
 */

/** What a JSON column holds: a name for error messages and a check that narrows `unknown`. */
export interface JsonShape<T> {
  readonly description: string;
  is(value: unknown): value is T;
}

/** The column's value is not what its shape says (and no default was given). */
export class JsonColumnError extends Error {
  constructor(
    readonly column: string,
    readonly problem: string,
  ) {
    super(`The database column ${column} holds ${problem}`);
    this.name = 'JsonColumnError';
  }
}

const NO_DEFAULT = Symbol('no default');

/**
 * Parses a JSON column and checks its shape. `column` names it in errors ("table.column"). With a
 * `fallback`, an empty, unparsable or mis-shaped value gives the fallback; without one, it throws
 * JsonColumnError. `null` (an SQL NULL) is read as the fallback too, or refused without one.
 */
export function readJson<T>(column: string, value: string | null | undefined, shape: JsonShape<T>, fallback: T | typeof NO_DEFAULT = NO_DEFAULT): T {
  // No closure made per call: lists read a JSON column on every row.
  if (value === null || value === undefined || value === '') return failed(column, 'no value', fallback);
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    return failed(column, 'text that is not JSON', fallback);
  }
  return shape.is(parsed) ? parsed : failed(column, `JSON that is not ${shape.description}`, fallback);
}

/** readJson's answer for a value it cannot use: the fallback, or JsonColumnError without one. */
function failed<T>(column: string, problem: string, fallback: T | typeof NO_DEFAULT): T {
  if (fallback !== NO_DEFAULT) return fallback;
  throw new JsonColumnError(column, problem);
}

/** Serialises a value for a JSON column, with its shape checked the same way (a bug, not user input, fails). */
export function writeJson<T>(column: string, value: T, shape: JsonShape<T>): string {
  if (!shape.is(value)) throw new JsonColumnError(column, `(about to be written) a value that is not ${shape.description}`);
  return JSON.stringify(value);
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Shapes: small validators, composed. */
export const json = {
  /** Anything that parses (for a value checked by a domain function afterwards). */
  unknown: { description: 'JSON', is: (_v: unknown): _v is unknown => true } as JsonShape<unknown>,
  string: { description: 'a string', is: (v: unknown): v is string => typeof v === 'string' } as JsonShape<string>,
  number: { description: 'a number', is: (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) } as JsonShape<number>,
  boolean: { description: 'a boolean', is: (v: unknown): v is boolean => typeof v === 'boolean' } as JsonShape<boolean>,
  /** An object with any keys (settings, event data). */
  record: { description: 'an object', is: isPlainObject } as JsonShape<Record<string, unknown>>,
  /** A list of strings (folders, participants, references, contact ids). */
  stringArray: { description: 'a list of strings', is: (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string') } as JsonShape<string[]>,

  /** A list whose items all have the shape. */
  arrayOf<T>(item: JsonShape<T>): JsonShape<T[]> {
    return { description: `a list of ${item.description}`, is: (v: unknown): v is T[] => Array.isArray(v) && v.every((x) => item.is(x)) };
  },
  /** One of the given strings (an enum). */
  oneOf<const T extends string>(values: readonly T[]): JsonShape<T> {
    return { description: `one of ${values.join(', ')}`, is: (v: unknown): v is T => typeof v === 'string' && (values as readonly string[]).includes(v) };
  },
  nullable<T>(inner: JsonShape<T>): JsonShape<T | null> {
    return { description: `${inner.description} or null`, is: (v: unknown): v is T | null => v === null || inner.is(v) };
  },
  /**
   * An object with these keys (others are allowed and kept). Keys listed in `optional` may be missing
   * (or undefined); every other key must be present with its shape.
   */
  object<S extends Record<string, JsonShape<unknown>>, O extends keyof S = never>(
    fields: S,
    optional: readonly O[] = [],
  ): JsonShape<{ [K in Exclude<keyof S, O>]: S[K] extends JsonShape<infer T> ? T : never } & { [K in O]?: S[K] extends JsonShape<infer T> ? T : never }> {
    const names = Object.keys(fields);
    return {
      description: `an object with ${names.join(', ')}`,
      is: (v: unknown): v is any =>
        isPlainObject(v) &&
        names.every((k) => (v[k] === undefined && (optional as readonly string[]).includes(k)) || (k in v && fields[k]!.is(v[k]))),
    };
  },
} as const;

/** Shapes several features share. */
export const shapes = {
  /** messages.to / cc / reply_to: parsed mailboxes. */
  mailboxes: json.arrayOf(json.object({ address: json.string, name: json.string }, ['name'])),
  /** messages.attachments: what the ingest stores of each attachment. */
  attachments: json.arrayOf(
    json.object({ filename: json.nullable(json.string), contentType: json.string, size: json.number, sha256: json.string, contentId: json.nullable(json.string) }, ['contentId']),
  ),
  /** connections.credentials, once opened by the secret box: the mail passwords. */
  mailCredentials: json.object({ imapPassword: json.nullable(json.string), smtpPassword: json.string }, ['imapPassword']),
};
