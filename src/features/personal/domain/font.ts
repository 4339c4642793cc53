/**
 * The user's default font for email sent from the CRM: a family from a fixed list (each with web-safe
 * fallbacks), a size in pixels and a colour. Applied as inline styles, because that is what survives the
 * common clients: Gmail drops <style> blocks in many views, and Outlook for Windows (Word's renderer) does
 * not inherit a font from a wrapping <div> into tables, so every text block (p, div, li, td, th,
 * blockquote, headings) gets the declarations it does not set itself; the user's own formatting wins.
 */
import { attribute, rewriteTags, startTag, withAttribute } from './html.js';
// The list of families, the size bounds and the default live in src/shared/fonts.ts, shared with the web app.
import { DEFAULT_FONT, FONT_FAMILIES, FONT_FAMILY_IDS, MAX_FONT_PX, MIN_FONT_PX, normaliseColor, type DefaultFont, type FontFamilyId } from '../../../shared/fonts.js';

export { DEFAULT_FONT, FONT_FAMILIES, FONT_FAMILY_IDS, MAX_FONT_PX, MIN_FONT_PX };
export type { DefaultFont, FontFamilyId };

export type FontCheck = { ok: true; font: DefaultFont } | { ok: false; field: 'family' | 'sizePx' | 'color'; message: string };

/** Validates user input; nothing reaches CSS that is not one of these exact forms. */
export function checkFont(input: { family?: unknown; sizePx?: unknown; color?: unknown }): FontCheck {
  const family = typeof input.family === 'string' ? input.family.trim().toLowerCase() : '';
  if (!(FONT_FAMILY_IDS as string[]).includes(family)) return { ok: false, field: 'family', message: `Choose one of these fonts: ${FONT_FAMILY_IDS.join(', ')}.` };
  const size = input.sizePx;
  if (typeof size !== 'number' || !Number.isInteger(size) || size < MIN_FONT_PX || size > MAX_FONT_PX) {
    return { ok: false, field: 'sizePx', message: `The font size must be a whole number of pixels from ${MIN_FONT_PX} to ${MAX_FONT_PX}.` };
  }
  const color = typeof input.color === 'string' ? normaliseColor(input.color) : null;
  if (!color) return { ok: false, field: 'color', message: 'The font colour must be a hex colour like #222222.' };
  return { ok: true, font: { family: family as FontFamilyId, sizePx: size, color } };
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
