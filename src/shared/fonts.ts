/**
 * The default-font families Mailroom offers for email sent from the CRM: one list for the server
 * (validation, the CSS written into the email: src/features/personal/domain/font.ts) and the browser
 * (the font picker: web/src/components/EmailPreferences.tsx). Pure: no Node or DOM imports.
 */

/** Each family with its label and its CSS stack (web-safe fallbacks). */
export const FONTS = {
  arial: { label: 'Arial', css: 'Arial, Helvetica, sans-serif' },
  helvetica: { label: 'Helvetica', css: 'Helvetica, Arial, sans-serif' },
  verdana: { label: 'Verdana', css: 'Verdana, Geneva, sans-serif' },
  tahoma: { label: 'Tahoma', css: 'Tahoma, Verdana, sans-serif' },
  trebuchet: { label: 'Trebuchet MS', css: "'Trebuchet MS', Helvetica, sans-serif" },
  calibri: { label: 'Calibri', css: 'Calibri, Carlito, Arial, sans-serif' },
  georgia: { label: 'Georgia', css: 'Georgia, serif' },
  times: { label: 'Times New Roman', css: "'Times New Roman', Times, serif" },
  garamond: { label: 'Garamond', css: "Garamond, 'Times New Roman', serif" },
  courier: { label: 'Courier New', css: "'Courier New', Courier, monospace" },
} as const satisfies Record<string, { label: string; css: string }>;

export type FontFamilyId = keyof typeof FONTS;
export const FONT_FAMILY_IDS = Object.keys(FONTS) as FontFamilyId[];

/** Family id → CSS stack. */
export const FONT_FAMILIES = Object.fromEntries(FONT_FAMILY_IDS.map((id) => [id, FONTS[id].css])) as { readonly [K in FontFamilyId]: (typeof FONTS)[K]['css'] };

export const MIN_FONT_PX = 8;
export const MAX_FONT_PX = 36;

export interface DefaultFont {
  family: FontFamilyId;
  sizePx: number;
  /** `#rrggbb`, lower-case. */
  color: string;
}

export const DEFAULT_FONT: DefaultFont = { family: 'arial', sizePx: 14, color: '#222222' };

export function isFontFamilyId(id: string): id is FontFamilyId {
  return Object.hasOwn(FONTS, id);
}

/** The family's label; an unknown id is shown as itself. */
export const fontLabel = (id: string): string => (isFontFamilyId(id) ? FONTS[id].label : id);
/** The family's CSS stack; `inherit` for an unknown id. */
export const fontCss = (id: string): string => (isFontFamilyId(id) ? FONTS[id].css : 'inherit');

/** `#abc` or `#aabbcc` (any case, spaces around), normalised to `#aabbcc`; null when it is not a hex colour. */
export function normaliseColor(input: string): string | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(input.trim());
  if (!m) return null;
  const hex = m[1]!.length === 3 ? m[1]!.split('').map((c) => c + c).join('') : m[1]!;
  return `#${hex.toLowerCase()}`;
}
