/** Bounds applied to every parse. A message over a bound is still returned, flagged, never dropped. */
export interface ParseLimits {
  /** Bytes of input parsed; the rest is ignored (flag `too_large`). Default 50 MiB. */
  maxInputBytes: number;
  /** MIME parts parsed (containers and leaves, top part included); later parts are skipped (flag `too_many_parts`). Default 1,000. */
  maxParts: number;
  /** MIME nesting depth parsed (0 = top part); deeper subtrees are skipped (flag `too_deep`). Default 50. */
  maxDepth: number;
  /** Characters kept of `text` and of `html` each (flag `body_truncated`). Default 4 Mi characters. */
  maxBodyChars: number;
}

export const DEFAULT_PARSE_LIMITS: Readonly<ParseLimits> = Object.freeze({
  maxInputBytes: 50 * 1024 * 1024,
  maxParts: 1000,
  maxDepth: 50,
  maxBodyChars: 4 * 1024 * 1024,
});

export function resolveLimits(partial?: Partial<ParseLimits>): ParseLimits {
  const out: ParseLimits = { ...DEFAULT_PARSE_LIMITS };
  if (partial) {
    for (const key of Object.keys(DEFAULT_PARSE_LIMITS) as (keyof ParseLimits)[]) {
      const v = partial[key];
      if (v !== undefined) {
        if (!Number.isInteger(v) || v < 1) throw new TypeError(`parse limit ${key} must be a positive integer, got ${String(v)}`);
        out[key] = v;
      }
    }
  }
  return out;
}
