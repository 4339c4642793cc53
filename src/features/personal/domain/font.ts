/**
 * The user's default font for email sent from the CRM: a family from a fixed list (each with web-safe
 * fallbacks), a size in pixels and a colour. Applied as inline styles, because that is what survives the
 * common clients: Gmail drops <style> blocks in many views, and Outlook for Windows (Word's renderer) does
 * not inherit a font from a wrapping <div> into tables, so every text block (p, div, li, td, th,
 * blockquote, headings) gets the declarations it does not set itself; the user's own formatting wins.
 */
import { attribute, rewriteTags, startTag, withAttribute } from './html.js';

export const FONT_FAMILIES = {
  arial: 'Arial, Helvetica, sans-serif',
  helvetica: 'Helvetica, Arial, sans-serif',
  verdana: 'Verdana, Geneva, sans-serif',
  tahoma: 'Tahoma, Verdana, sans-serif',
  trebuchet: "'Trebuchet MS', Helvetica, sans-serif",
  calibri: 'Calibri, Carlito, Arial, sans-serif',
  georgia: 'Georgia, serif',
  times: "'Times New Roman', Times, serif",
  garamond: "Garamond, 'Times New Roman', serif",
  courier: "'Courier New', Courier, monospace",
} as const;
export type FontFamilyId = keyof typeof FONT_FAMILIES;
export const FONT_FAMILY_IDS = Object.keys(FONT_FAMILIES) as FontFamilyId[];

export const MIN_FONT_PX = 8;
export const MAX_FONT_PX = 36;

export interface DefaultFont {
  family: FontFamilyId;
  sizePx: number;
  /** `#rrggbb`, lower-case. */
  color: string;
}

export const DEFAULT_FONT: DefaultFont = { family: 'arial', sizePx: 14, color: '#222222' };

export type FontCheck = { ok: true; font: DefaultFont } | { ok: false; field: 'family' | 'sizePx' | 'color'; message: string };

/** Validates user input; nothing reaches CSS that is not one of these exact forms. */
export function checkFont(input: { family?: unknown; sizePx?: unknown; color?: unknown }): FontCheck {
  const family = typeof input.family === 'string' ? input.family.trim().toLowerCase() : '';
  if (!(FONT_FAMILY_IDS as string[]).includes(family)) return { ok: false, field: 'family', message: `Choose one of these fonts: ${FONT_FAMILY_IDS.join(', ')}.` };
  const size = input.sizePx;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_FONT_PX || size > MAX_FONT_PX) {
    return { ok: false, field: 'sizePx', message: `The font size must be a whole number of pixels from ${MIN_FONT_PX} to ${MAX_FONT_PX}.` };
  }
  const raw = typeof input.color === 'string' ? input.color.trim().toLowerCase() : '';
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/.exec(raw);
  if (!m) return { ok: false, field: 'color', message: 'The font colour must be a hex colour like #222222.' };
  const hex = m[1]!.length === 3 ? m[1]!.split('').map((c) => c + c).join('') : m[1]!;
  return { ok: true, font: { family: family as FontFamilyId, sizePx: size, color: `#${hex}` } };
}

/** The declarations, in a fixed order. */
export function fontDeclarations(font: DefaultFont): Array<[string, string]> {
  return [
    ['font-family', FONT_FAMILIES[font.family]],
    ['font-size', `${font.sizePx}px`],
    ['color', font.color],
  ];
}

export function fontStyle(font: DefaultFont): string {
  return fontDeclarations(font)
    .map(([k, v]) => `${k}:${v}`)
    .join(';');
}

/** Elements that hold text and get the font; headings keep their own size. */
const TEXT_BLOCKS = new Set(['p', 'div', 'li', 'td', 'th', 'blockquote', 'dd', 'dt', 'pre', 'center', 'body']);
const HEADINGS = new Set(['h1', 'h2', 'h3', 'h4', 'h5', 'h6']);

/** Names of the declarations an inline style sets (lower-case). */
export function declaredProperties(style: string): Set<string> {
  const names = new Set<string>();
  for (const part of style.split(';')) {
    const colon = part.indexOf(':');
    if (colon > 0) names.add(part.slice(0, colon).trim().toLowerCase());
  }
  if (names.has('font')) {
    names.add('font-family');
    names.add('font-size');
  }
  return names;
}

/** Appends the declarations the style does not set. */
export function mergeStyle(style: string | null, declarations: ReadonlyArray<[string, string]>): string {
  const existing = (style ?? '').trim();
  const have = declaredProperties(existing);
  const missing = declarations.filter(([k]) => !have.has(k));
  if (!missing.length) return existing;
  const add = missing.map(([k, v]) => `${k}:${v}`).join(';');
  if (!existing) return add;
  return `${existing.replace(/;\s*$/, '')};${add}`;
}

/**
 * The body with the default font applied: a wrapper <div> carrying the font (or the <body> itself when the
 * document has one), and the missing declarations added to every text block inside.
 */
export function applyDefaultFont(html: string, font: DefaultFont): string {
  const all = fontDeclarations(font);
  const noSize = all.filter(([k]) => k !== 'font-size');
  let sawBody = false;
  const styled = rewriteTags(html, (tag) => {
    if (tag.closing) return null;
    if (tag.name === 'body') sawBody = true;
    const declarations = TEXT_BLOCKS.has(tag.name) ? all : HEADINGS.has(tag.name) ? noSize : null;
    if (!declarations) return null;
    const merged = mergeStyle(attribute(tag, 'style'), declarations);
    return startTag(tag.name, withAttribute(tag.attributes, 'style', merged), tag.selfClosing);
  });
  return sawBody ? styled : `<div style="${fontStyle(font).replace(/"/g, '&quot;')}">${styled}</div>`;
}
