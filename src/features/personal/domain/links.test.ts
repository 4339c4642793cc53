import { describe, expect, it } from 'vitest';
import { insertOpenPixel, rewriteLinksForTracking, trackableUrl } from './links.js';

const base = 'https://crm.example/t/c/';
const rewrite = (html: string, max?: number) => rewriteLinksForTracking(html, (l) => `${base}L${l.position}`, { trackingBase: base, maxLinks: max });

describe('rewriteLinksForTracking', () => {
  it.each([
    ['simple link', '<a href="https://acme.example/pricing">x</a>', '<a href="https://crm.example/t/c/L0">x</a>', ['https://acme.example/pricing']],
    ['keeps other attributes, single quotes', `<a class=btn href='http://acme.example/a?b=1&amp;c=2' target=_blank>x</a>`, '<a class="btn" href="https://crm.example/t/c/L0" target="_blank">x</a>', ['http://acme.example/a?b=1&c=2']],
    ['mailto, tel, anchors and relative links stay', '<a href="mailto:a@b.c">m</a><a href="tel:+1">t</a><a href="#top">a</a><a href="/x">r</a>', null, []],
    ['javascript: never tracked', '<a href="javascript:alert(1)">j</a>', null, []],
    ['opt-out attribute', '<a data-mailroom-notrack href="https://a.example/">x</a>', null, []],
    ['already a tracking link', `<a href="${base}abc">x</a>`, null, []],
    ['credentials in the URL are left alone', '<a href="https://u:p@a.example/">x</a>', null, []],
    ['normalises the stored destination', '<a href=" HTTPS://Acme.Example/a b ">x</a>', '<a href="https://crm.example/t/c/L0">x</a>', ['https://acme.example/a%20b']],
    ['links inside comments and scripts are not touched', '<!-- <a href="https://a.example/"> --><script>"<a href=\'https://b.example/\'>"</script>', null, []],
    ['several links in order', '<a href="https://a.example/">1</a> <A HREF="https://b.example/">2</A>', '<a href="https://crm.example/t/c/L0">1</a> <a href="https://crm.example/t/c/L1">2</A>', ['https://a.example/', 'https://b.example/']],
  ])('%s', (_name, html, expected, urls) => {
    const r = rewrite(html);
    expect(r.html).toBe(expected ?? html);
    expect(r.links.map((l) => l.url)).toEqual(urls);
  });

  it('stops at the maximum number of links', () => {
    const html = '<a href="https://a.example/">1</a><a href="https://b.example/">2</a>';
    const r = rewrite(html, 1);
    expect(r.links).toHaveLength(1);
    expect(r.html).toContain('href="https://b.example/"');
  });

  it('trackableUrl', () => {
    expect(trackableUrl('ftp://x.example/')).toBeNull();
    expect(trackableUrl('https://')).toBeNull();
    expect(trackableUrl(null)).toBeNull();
    expect(trackableUrl('https://x.example')).toBe('https://x.example/');
  });
});

describe('insertOpenPixel', () => {
  const img = '<img src="https://crm.example/t/o/T" width="1" height="1" alt="" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">';
  it.each([
    ['<p>x</p>', `<p>x</p>${img}`],
    ['<html><body><p>x</p></body></html>', `<html><body><p>x</p>${img}</body></html>`],
    ['<body>a</BODY >', `<body>a${img}</BODY >`],
  ])('%s', (html, expected) => {
    expect(insertOpenPixel(html, 'https://crm.example/t/o/T')).toBe(expected);
  });
  it('escapes the URL', () => {
    expect(insertOpenPixel('', 'https://x.example/"><script>')).toContain('src="https://x.example/&quot;&gt;&lt;script&gt;"');
  });
});
