import { describe, expect, it } from 'vitest';
import { describeTokenProblems, renderTokens, tokenValues, type TokenValues } from './tokens.js';

const values: TokenValues = tokenValues({
  contact: { firstName: 'Ann', lastName: 'Lee', email: 'ann@acme.example' },
  company: { name: 'Acme & Sons', domain: 'acme.example' },
  sender: { name: 'Bob  Seller', email: 'bob@us.example' },
});
const noName: TokenValues = { ...values, 'contact.firstName': '', 'company.name': null };

describe('renderTokens', () => {
  it.each([
    ['Hi {{contact.firstName}},', values, false, 'Hi Ann,'],
    ['Hi {{ contact.firstName }} {{contact.lastName}}', values, false, 'Hi Ann Lee'],
    ['{{contact.fullName}} <{{contact.email}}>', values, false, 'Ann Lee <ann@acme.example>'],
    ['From {{sender.firstName}} ({{sender.fullName}}, {{sender.email}})', values, false, 'From Bob (Bob  Seller, bob@us.example)'],
    ['Hi {{ contact.firstName | "there" }}!', noName, false, 'Hi there!'],
    ["Hi {{contact.firstName|'friend'}}!", noName, false, 'Hi friend!'],
    ['Hi {{ contact.firstName | "there" }}!', values, false, 'Hi Ann!'],
    ['<p>{{company.name}}</p>', values, true, '<p>Acme &amp; Sons</p>'],
    ['<p>Hi {{ contact.firstName | &quot;there&quot; }}</p>', noName, true, '<p>Hi there</p>'],
    ['<p>Hi {{ <b>contact.firstName</b> }}</p>', values, true, '<p>Hi Ann</p>'],
    ['<p>{{ company.name | "R&amp;D &lt;team&gt;" }}</p>', noName, true, '<p>R&amp;D &lt;team&gt;</p>'],
    ['no tokens { here } {{', values, false, 'no tokens { here } {{'],
    ['{{company.domain}}', values, false, 'acme.example'],
  ])('%s', (template, v, html, expected) => {
    const r = renderTokens(template, v, { html });
    expect(r).toMatchObject({ ok: true, text: expected });
  });

  it.each([
    ['Hi {{contact.firstName}}', noName, 'missing_value'],
    ['Hi {{ company.name }}', noName, 'missing_value'],
    ['Hi {{contact.nickname}}', values, 'unknown_token'],
    ['Hi {{contact.firstName | there}}', values, 'malformed_token'],
    ['Hi {{ }}', values, 'malformed_token'],
    ['Hi {{contact.firstName "x"}}', values, 'malformed_token'],
  ])('refuses %s', (template, v, reason) => {
    const r = renderTokens(template, v, { html: false });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problems[0]!.reason).toBe(reason);
  });

  it('lists every problem and never returns text with a raw token', () => {
    const r = renderTokens('{{contact.firstName}} {{company.name}} {{x.y}}', noName, { html: false });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.reason)).toEqual(['missing_value', 'missing_value', 'unknown_token']);
    const msg = describeTokenProblems(r.problems);
    expect(msg).toMatch(/contact\.firstName, company\.name have no value/);
    expect(msg).toMatch(/x\.y is not a personalization token/);
  });

  it('keeps values on one line in a subject', () => {
    const r = renderTokens('Re {{contact.lastName}}', { 'contact.lastName': 'Lee\r\nBcc: x@y' }, { html: false });
    expect(r).toMatchObject({ ok: true, text: 'Re Lee Bcc: x@y' });
  });
});
