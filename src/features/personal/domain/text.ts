/**
 * The plain-text alternative of an HTML email (clients that show text, spam filters that compare both
 * parts, and the timeline snippet). Links keep their destination in brackets; block elements end lines.
 * Pure and linear.
 */
import { attribute, decodeEntities, scanTags } from './html.js';

const BLOCK = new Set(['p', 'div', 'br', 'li', 'tr', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'pre', 'table', 'ul', 'ol', 'hr', 'center', 'dd', 'dt']);
const DROP = new Set(['script', 'style', 'title', 'head', 'noscript', 'xmp', 'textarea']);

export function htmlToText(html: string): string {
  const tags = scanTags(html);
  let out = '';
  let last = 0;
  let dropDepth = 0;
  const hrefs: Array<string | null> = [];
  for (const tag of tags) {
    if (dropDepth === 0) out += decodeEntities(html.slice(last, tag.start)).replace(/[ \t\r\n]+/g, ' ');
    last = tag.end;
    if (DROP.has(tag.name)) {
      dropDepth = Math.max(0, dropDepth + (tag.closing ? -1 : tag.selfClosing ? 0 : 1));
      continue;
    }
    if (dropDepth > 0) continue;
    if (tag.name === 'a') {
      if (!tag.closing) hrefs.push(attribute(tag, 'href'));
      else {
        const href = hrefs.pop();
        if (href && /^https?:/i.test(href.trim()) && !out.endsWith(href.trim())) out += ` (${href.trim()})`;
      }
      continue;
    }
    if (tag.name === 'li') out += tag.closing ? '' : '\n- ';
    else if (tag.name === 'img' && !tag.closing) {
      const alt = attribute(tag, 'alt');
      if (alt) out += alt;
    } else if (BLOCK.has(tag.name)) out += '\n';
  }
  if (dropDepth === 0) out += decodeEntities(html.slice(last)).replace(/[ \t\r\n]+/g, ' ');
  return out
    .replace(/\u00a0/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
