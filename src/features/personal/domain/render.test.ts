import { describe, expect, it } from 'vitest';
import { renderPersonalEmail } from './compose.js';

const values = { 'contact.firstName': 'Ann', 'sender.firstName': 'Sam' };

describe('renderPersonalEmail', () => {
  it('fills tokens, adds the signature below the body, applies the default font', () => {
    const r = renderPersonalEmail({ subject: 'Hi {{ contact.firstName }}', html: '<p>Hello {{ contact.firstName }}</p>', values, signature: 'Sam\nSales', font: { family: 'georgia', sizePx: 15, color: '#224466' } });
    expect(r.problems).toEqual([]);
    expect(r.subject).toBe('Hi Ann');
    expect(r.html).toContain('Hello Ann');
    expect(r.html).toContain('Sam<br>Sales');
    expect(r.html).toMatch(/font-family:\s*Georgia/i);
  });

  it('lists what cannot be filled and keeps the tokens, signature tokens included', () => {
    const r = renderPersonalEmail({ subject: 'For {{ company.name }}', html: '<p>x</p>', values, signature: '{{ sender.lastName }}', font: null });
    expect(r.problems.map((p) => p.name)).toEqual(['company.name', 'sender.lastName']);
    expect(r.subject).toBe('For {{ company.name }}');
    expect(r.html).toContain('{{ sender.lastName }}');
  });
});
