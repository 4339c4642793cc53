/**
 * A small, linear HTML tag scanner for the rewrites personal email needs at send time (tracked links,
 * default-font styles, the open pixel). It does not build a tree: it finds start and end tags outside
 * comments, doctype/CDATA sections and raw-text elements (script, style, textarea, title), parses their
 * attributes the way browsers do (quoted, unquoted and bare attributes; `>` inside quotes), and lets the
 * caller replace a tag's text. Everything between tags is kept byte for byte. Pure.
 */

export interface HtmlAttribute {
  /** Lower-case name. */
  name: string;
  /** Decoded value (character references resolved); null for a bare attribute (`<td nowrap>`). */
  value: string | null;
}

export interface HtmlTag {
  /** Offsets of the whole tag text (`<a href="x">`) in the input. */
  start: number;
  end: number;
  /** Lower-case tag name. */
  name: string;
  closing: boolean;
  selfClosing: boolean;
  attributes: HtmlAttribute[];
}

const RAW_TEXT = new Set(['script', 'style', 'textarea', 'title', 'xmp', 'noscript']);
const NAME_START = /[A-Za-z]/;

/** Every start and end tag of `html`, in order. */
export function scanTags(html: string): HtmlTag[] {
  const out: HtmlTag[] = [];
  let i = 0;
  const n = html.length;
  while (i < n) {
    const lt = html.indexOf('<', i);
    if (lt < 0) break;
    if (html.startsWith('<!--', lt)) {
      const close = html.indexOf('-->', lt + 4);
      i = close < 0 ? n : close + 3;
      continue;
    }
    if (html[lt + 1] === '!' || html[lt + 1] === '?') {
      // doctype, CDATA, processing instruction: skip to the next '>'
      const close = html.indexOf('>', lt + 2);
      i = close < 0 ? n : close + 1;
      continue;
    }
    const closing = html[lt + 1] === '/';
    const nameAt = closing ? lt + 2 : lt + 1;
    if (!NAME_START.test(html[nameAt] ?? '')) {
      i = lt + 1;
      continue;
    }
    const tag = readTag(html, lt, nameAt, closing);
    if (!tag) break; // an unterminated tag runs to the end: nothing more to find
    out.push(tag);
    i = tag.end;
    if (!closing && RAW_TEXT.has(tag.name) && !tag.selfClosing) {
      const endTag = new RegExp(`</${tag.name}\\s*>`, 'i');
      const m = endTag.exec(html.slice(i));
      if (!m) break;
      const at = i + m.index;
      out.push({ start: at, end: at + m[0].length, name: tag.name, closing: true, selfClosing: false, attributes: [] });
      i = at + m[0].length;
    }
  }
  return out;
}

function readTag(html: string, start: number, nameAt: number, closing: boolean): HtmlTag | null {
  let p = nameAt;
  while (p < html.length && /[A-Za-z0-9:-]/.test(html[p]!)) p++;
  const name = html.slice(nameAt, p).toLowerCase();
  const attributes: HtmlAttribute[] = [];
  let selfClosing = false;
  while (p < html.length) {
    const ch = html[p]!;
    if (ch === '>') return { start, end: p + 1, name, closing, selfClosing, attributes };
    if (/\s/.test(ch)) {
      p++;
      continue;
    }
    if (ch === '/') {
      selfClosing = html[p + 1] === '>';
      p++;
      continue;
    }
    // attribute name
    const nameStart = p;
    while (p < html.length && !/[\s/>=]/.test(html[p]!)) p++;
    if (p === nameStart) p++; // a stray '=': skip it
    const attrName = html.slice(nameStart, p).toLowerCase();
    while (p < html.length && /\s/.test(html[p]!)) p++;
    if (html[p] !== '=') {
      if (attrName) attributes.push({ name: attrName, value: null });
      continue;
    }
    p++;
    while (p < html.length && /\s/.test(html[p]!)) p++;
    let raw: string;
    const q = html[p];
    if (q === '"' || q === "'") {
      const close = html.indexOf(q, p + 1);
      if (close < 0) return null;
      raw = html.slice(p + 1, close);
      p = close + 1;
    } else {
      const valueStart = p;
      while (p < html.length && !/[\s>]/.test(html[p]!)) p++;
      raw = html.slice(valueStart, p);
    }
    if (attrName && !attributes.some((a) => a.name === attrName)) attributes.push({ name: attrName, value: decodeEntities(raw) });
  }
  return null;
}

/** Replaces tags: `fn` returns the new text of a tag, or null to keep it as it is. */
export function rewriteTags(html: string, fn: (tag: HtmlTag, index: number) => string | null): string {
  const tags = scanTags(html);
  let out = '';
  let last = 0;
  tags.forEach((tag, index) => {
    const replacement = fn(tag, index);
    if (replacement === null) return;
    out += html.slice(last, tag.start) + replacement;
    last = tag.end;
  });
  return out + html.slice(last);
}

/** The text of a start tag with these attributes (values escaped, always double-quoted). */
export function startTag(name: string, attributes: readonly HtmlAttribute[], selfClosing = false): string {
  const attrs = attributes.map((a) => (a.value === null ? ` ${a.name}` : ` ${a.name}="${escapeAttribute(a.value)}"`)).join('');
  return `<${name}${attrs}${selfClosing ? ' /' : ''}>`;
}

export function attribute(tag: HtmlTag, name: string): string | null {
  return tag.attributes.find((a) => a.name === name)?.value ?? null;
}

export function hasAttribute(tag: HtmlTag, name: string): boolean {
  return tag.attributes.some((a) => a.name === name);
}

/** A copy of the attributes with `name` set to `value` (added at the end when absent). */
export function withAttribute(attributes: readonly HtmlAttribute[], name: string, value: string): HtmlAttribute[] {
  const found = attributes.some((a) => a.name === name);
  return found ? attributes.map((a) => (a.name === name ? { name, value } : a)) : [...attributes, { name, value }];
}

export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

export function escapeAttribute(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: '\u00a0', sol: '/', colon: ':', equals: '=', quest: '?', num: '#', percnt: '%', period: '.', comma: ',', lpar: '(', rpar: ')', tab: '\t', newline: '\n' };

/** Resolves numeric and the common named character references; unknown names are kept as written. */
export function decodeEntities(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(/&(#[xX][0-9a-fA-F]{1,6}|#[0-9]{1,7}|[A-Za-z][A-Za-z0-9]{1,31});?/g, (m, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? Number.parseInt(body.slice(2), 16) : Number.parseInt(body.slice(1), 10);
      if (!Number.isFinite(code) || code <= 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return '\ufffd';
      return String.fromCodePoint(code);
    }
    const v = NAMED[body.toLowerCase()];
    return v ?? m;
  });
}
