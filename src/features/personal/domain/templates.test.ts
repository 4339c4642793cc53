import { describe, expect, it } from 'vitest';
import { checkTemplate, mayEditTemplate, mayUseTemplate, MAX_TEMPLATE_NAME, type TemplateInput } from './templates.js';

describe('checkTemplate', () => {
  it.each<[string, TemplateInput, Record<string, unknown>]>([
    ['a template', { kind: 'template', name: '  Intro   call ', subject: 'Hi {{ contact.firstName | "there" }}', html: '<p>Hello</p>' }, { name: 'Intro call', subject: 'Hi {{ contact.firstName | "there" }}', shortcut: null, shared: false }],
    ['a snippet with a shortcut', { kind: 'snippet', name: 'Pricing', html: 'See {{ company.name }}', shortcut: '/Pricing' }, { kind: 'snippet', shortcut: 'pricing', subject: '' }],
    ['a snippet without a shortcut', { kind: 'snippet', name: 'Thanks', html: 'Thanks!' }, { shortcut: null }],
    ['a subject-only template', { kind: 'template', name: 'Ping', subject: 'Quick question', html: '' }, { html: '' }],
    ['subject newlines folded', { kind: 'template', name: 'X', subject: 'a\r\nb', html: 'x' }, { subject: 'a b' }],
    ['shared kept', { kind: 'template', name: 'X', subject: 's', html: 'x', shared: true }, { shared: true }],
    ['a missing value is fine when saving (per contact)', { kind: 'template', name: 'X', subject: '{{ contact.lastName }}', html: '{{ sender.email }}' }, { subject: '{{ contact.lastName }}' }],
  ])('accepts %s', (_what, input, expected) => {
    const r = checkTemplate(input);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.template).toMatchObject(expected);
  });

  it.each<[string, TemplateInput, string, RegExp]>([
    ['no name', { kind: 'template', name: '  ', subject: 's', html: 'x' }, 'name', /Give the template a name/],
    ['a long name', { kind: 'template', name: 'n'.repeat(MAX_TEMPLATE_NAME + 1), subject: 's', html: 'x' }, 'name', /longer than 120/],
    ['nothing in it', { kind: 'template', name: 'X', subject: ' ', html: ' ' }, 'html', /subject or a body/],
    ['an empty snippet', { kind: 'snippet', name: 'X', html: '' }, 'html', /needs some text/],
    ['an unknown token in the subject', { kind: 'template', name: 'X', subject: 'Hi {{ contact.nickname }}', html: 'x' }, 'subject', /contact\.nickname is not a personalization token/],
    ['a malformed token in the body', { kind: 'template', name: 'X', subject: 's', html: '<p>{{ hello world }}</p>' }, 'html', /not written like a token/],
    ['a bad shortcut', { kind: 'snippet', name: 'X', html: 'x', shortcut: 'two words' }, 'shortcut', /1 to 30 letters/],
    ['a shortcut on a template', { kind: 'template', name: 'X', subject: 's', html: 'x', shortcut: 'abc' }, 'shortcut', /Only snippets/],
  ])('refuses %s', (_what, input, field, message) => {
    const r = checkTemplate(input);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.field).toBe(field);
      expect(r.message).toMatch(message);
      expect(r.message).not.toMatch(/Nothing was sent/);
    }
  });
});

describe('who may use and edit', () => {
  it.each([
    [{ ownerUserId: 'u1', shared: false }, { userId: 'u1', isAdmin: false }, true, true],
    [{ ownerUserId: 'u1', shared: false }, { userId: 'u2', isAdmin: true }, false, false],
    [{ ownerUserId: 'u1', shared: true }, { userId: 'u2', isAdmin: false }, true, false],
    [{ ownerUserId: 'u1', shared: true }, { userId: 'u2', isAdmin: true }, true, true],
  ])('%o by %o: use %s, edit %s', (t, actor, use, edit) => {
    expect(mayUseTemplate(t, actor)).toBe(use);
    expect(mayEditTemplate(t, actor)).toBe(edit);
  });
});
