import { describe, expect, it } from 'vitest';
import { applyDefaultFont, checkFont, fontStyle, mergeStyle, type DefaultFont } from './font.js';

const font: DefaultFont = { family: 'georgia', sizePx: 15, color: '#333366' };
const css = 'font-family:Georgia, serif;font-size:15px;color:#333366';

describe('checkFont', () => {
  it.each([
    [{ family: 'Arial', sizePx: 14, color: '#222' }, { family: 'arial', sizePx: 14, color: '#222222' }],
    [{ family: 'courier', sizePx: 8, color: '#ABCDEF' }, { family: 'courier', sizePx: 8, color: '#abcdef' }],
  ])('accepts %j', (input, expected) => {
    expect(checkFont(input)).toEqual({ ok: true, font: expected });
  });
  it.each([
    [{ family: 'Comic Sans', sizePx: 14, color: '#222' }, 'family'],
    [{ family: 'arial;color:red', sizePx: 14, color: '#222' }, 'family'],
    [{ family: 'arial', sizePx: 7, color: '#222' }, 'sizePx'],
    [{ family: 'arial', sizePx: 14.5, color: '#222' }, 'sizePx'],
    [{ family: 'arial', sizePx: 40, color: '#222' }, 'sizePx'],
    [{ family: 'arial', sizePx: 14, color: 'red' }, 'color'],
    [{ family: 'arial', sizePx: 14, color: '#222;background:url(x)' }, 'color'],
  ])('refuses %j', (input, field) => {
    expect(checkFont(input)).toMatchObject({ ok: false, field });
  });
});

describe('applyDefaultFont', () => {
  it.each([
    ['plain fragment: wrapper div', 'Hello', `<div style="${css}">Hello</div>`],
    ['paragraphs get every declaration', '<p>Hi</p>', `<div style="${css}"><p style="${css}">Hi</p></div>`],
    ['own formatting wins', '<p style="color:red">Hi</p>', `<div style="${css}"><p style="color:red;font-family:Georgia, serif;font-size:15px">Hi</p></div>`],
    ['font shorthand counts as family and size', '<p style="font: 12px Arial">x</p>', `<div style="${css}"><p style="font: 12px Arial;color:#333366">x</p></div>`],
    ['table cells (Outlook does not inherit into tables)', '<table><tr><td>a</td></tr></table>', `<div style="${css}"><table><tr><td style="${css}">a</td></tr></table></div>`],
    ['headings keep their size', '<h2>T</h2>', `<div style="${css}"><h2 style="font-family:Georgia, serif;color:#333366">T</h2></div>`],
    ['spans and links untouched', '<span>a</span><a href="x">b</a>', `<div style="${css}"><span>a</span><a href="x">b</a></div>`],
    ['a full document styles its body', '<html><body><p>x</p></body></html>', `<html><body style="${css}"><p style="${css}">x</p></body></html>`],
    ['style blocks are not rewritten', '<style>p{color:red}</style><p>x</p>', `<div style="${css}"><style>p{color:red}</style><p style="${css}">x</p></div>`],
  ])('%s', (_name, html, expected) => {
    expect(applyDefaultFont(html, font)).toBe(expected);
  });

  it('quotes font names safely inside the attribute', () => {
    const out = applyDefaultFont('<p>x</p>', { family: 'times', sizePx: 12, color: '#000000' });
    expect(out).toContain(`style="font-family:'Times New Roman', Times, serif;font-size:12px;color:#000000"`);
  });

  it('mergeStyle adds only what is missing', () => {
    expect(mergeStyle('COLOR: blue;', [['color', '#000'], ['font-size', '1px']])).toBe('COLOR: blue;font-size:1px');
    expect(mergeStyle(null, [['color', '#000']])).toBe('color:#000');
    expect(fontStyle(font)).toBe(css);
  });
});
