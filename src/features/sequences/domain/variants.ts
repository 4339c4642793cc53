/** A/B variants: which variant of an email step an enrollment gets, deterministic per (enrollment, step). Pure. */

/** FNV-1a 32-bit over a string. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** Index of the variant (0 when the step has one), the same every time for this enrollment and step. */
export function pickVariant(enrollmentId: string, stepId: string, count: number): number {
  if (count <= 1) return 0;
  return fnv1a(`${enrollmentId}\0${stepId}`) % count;
}

/** Seconds (0..299) a mailbox's sends are spread by, so steps due at one time do not all leave at :00. */
export function spreadSeconds(enrollmentId: string): number {
  return fnv1a(`spread\0${enrollmentId}`) % 300;
}
