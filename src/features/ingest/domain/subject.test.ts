import { describe, expect, it } from 'vitest';
import { analyseSubject, baseSubject, isResponseSubject, subjectKey } from './subject.js';

describe('baseSubject', () => {
  const cases: Array<[string, string]> = [
    ['Hello', 'Hello'],
    ['Re: Hello', 'Hello'],
    ['RE: Hello', 'Hello'],
    ['re:Hello', 'Hello'],
    ['Re: Re: Re: Hello', 'Hello'],
    ['Re:Re:Hello', 'Hello'],
    ['RE[2]: Hello', 'Hello'],
    ['Re^3: Hello', 'Hello'],
    ['Re(2): Hello', 'Hello'],
    ['Re : Hello', 'Hello'],
    ['Fwd: Hello', 'Hello'],
    ['FW: Hello', 'Hello'],
    ['Fw: Re: Hello', 'Hello'],
    ['AW: Angebot', 'Angebot'],
    ['WG: AW: Angebot', 'Angebot'],
    ['SV: Offert', 'Offert'],
    ['VS: Tarjous', 'Tarjous'],
    ['TR: Devis', 'Devis'],
    ['Antw: Offerte', 'Offerte'],
    ['Odp: Oferta', 'Oferta'],
    ['RIF: Preventivo', 'Preventivo'],
    ['R: I: Preventivo', 'Preventivo'],
    ['Отв: Привет', 'Привет'],
    ['回复：你好', '你好'],
    ['转发: 你好', '你好'],
    ['ＲＥ: hi', 'ＲＥ: hi'], // full-width letters are not a known prefix; subjectKey folds them
    ['[dev] Re: Release 1.2', 'Release 1.2'],
    ['Re: [dev] Release 1.2', 'Release 1.2'],
    ['[dev] [announce] Release', 'Release'],
    ['[dev]', '[dev]'], // a lone blob stays: nothing would be left
    ['Hello (fwd)', 'Hello'],
    ['Hello (fwd) (fwd)  ', 'Hello'],
    ['[Fwd: Hello]', 'Hello'],
    ['Re: [Fwd: Re: Hello]', 'Hello'],
    ['  Re:   Hello    world  ', 'Hello world'],
    ['Fire: everywhere', 'Fire: everywhere'],
    ['Report: Q3', 'Report: Q3'],
    ['Review: draft', 'Review: draft'],
    ['Re:', ''],
    ['', ''],
  ];
  it.each(cases)('%j -> %j', (input, expected) => {
    expect(baseSubject(input)).toBe(expected);
  });

  it('handles null and very long input without hanging', () => {
    expect(baseSubject(null)).toBe('');
    const long = 'Re: '.repeat(5000) + 'x';
    const t = Date.now();
    expect(baseSubject(long).length).toBeLessThan(4096);
    expect(Date.now() - t).toBeLessThan(1000);
  });
});

describe('analyseSubject', () => {
  it.each([
    ['Re: x', { reply: true, forward: false }],
    ['Fwd: x', { reply: false, forward: true }],
    ['WG: AW: x', { reply: true, forward: true }],
    ['x (fwd)', { reply: false, forward: true }],
    ['[list] x', { reply: false, forward: false }],
    ['x', { reply: false, forward: false }],
  ] as const)('%j', (input, flags) => {
    expect(analyseSubject(input)).toMatchObject(flags);
  });

  it('collects list tags', () => {
    expect(analyseSubject('[maven-dev] [VOTE] Re: Release').tags).toEqual(['maven-dev', 'VOTE']);
  });
});

describe('subjectKey', () => {
  it.each([
    ['Re: Hello World', 'hello world'],
    ['AW:  HELLO   world', 'hello world'],
    ['ＲＥ: ｈｉ', 'hi'],
    ['[dev] Re: Ünïcode', 'ünïcode'],
  ])('%j -> %j', (input, expected) => {
    expect(subjectKey(input)).toBe(expected);
  });

  it('marks response subjects', () => {
    expect(isResponseSubject('Re: x')).toBe(true);
    expect(isResponseSubject('x')).toBe(false);
  });
});
