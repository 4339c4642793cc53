/** The default-font families the server accepts (src/features/personal/domain/font.ts), with their CSS stacks and labels. */
export const FONT_STACKS: Record<string, { label: string; css: string }> = {
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
};

export const MIN_FONT_PX = 8;
export const MAX_FONT_PX = 36;
export const DEFAULT_FONT = { family: 'arial', sizePx: 14, color: '#222222' };

export const fontLabel = (id: string) => FONT_STACKS[id]?.label ?? id;
export const fontCss = (id: string) => FONT_STACKS[id]?.css ?? 'inherit';

/** `#abc` or `#aabbcc`, normalised to `#aabbcc`; null when it is not a hex colour. */
export function normaliseColor(input: string): string | null {
  const m = /^#([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(input.trim());
  if (!m) return null;
  const hex = m[1]!.length === 3 ? m[1]!.split('').map((c) => c + c).join('') : m[1]!;
  return `#${hex.toLowerCase()}`;
}
