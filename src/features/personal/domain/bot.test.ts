import { describe, expect, it } from 'vitest';
import { classifyHit, clickBurst, type HitFacts } from './bot.js';

const sentAt = 1_700_000_000_000;
const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36';
const person: HitFacts = { kind: 'open', method: 'GET', userAgent: chrome, ip: '203.0.113.7', at: sentAt + 3_600_000, sentAt };

describe('classifyHit', () => {
  it.each<[string, Partial<HitFacts>, string[]]>([
    ['a person in a browser', {}, []],
    ['Gmail image proxy is a real open', { userAgent: 'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', ip: '66.102.8.1' }, []],
    ['Outlook desktop is a real open', { userAgent: 'Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)' }, []],
    ['HEAD request', { method: 'HEAD' }, ['head_request']],
    ['within seconds of sending', { at: sentAt + 2_000 }, ['too_soon_after_send']],
    ['before the email was sent', { sentAt: null }, ['before_send']],
    ['no user agent', { userAgent: null }, ['no_user_agent']],
    ['curl', { userAgent: 'curl/8.5.0' }, ['scanner_user_agent']],
    ['python requests', { userAgent: 'python-requests/2.31' }, ['scanner_user_agent']],
    ['Barracuda link scanner', { userAgent: 'Mozilla/5.0 (compatible; Barracuda Sentinel)' }, ['scanner_user_agent']],
    ['Office link existence check', { userAgent: 'Microsoft Office Existence Discovery' }, ['scanner_user_agent']],
    ['Slack unfurl', { userAgent: 'Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)' }, ['scanner_user_agent']],
    ['headless Chrome', { userAgent: 'Mozilla/5.0 HeadlessChrome/120.0' }, ['scanner_user_agent']],
    ['Apple Mail Privacy Protection (agent)', { userAgent: 'Mozilla/5.0', ip: '104.28.1.1' }, ['apple_mail_privacy_proxy']],
    ['Apple Mail Privacy Protection (network)', { ip: '17.58.1.2' }, ['apple_mail_privacy_proxy']],
    ['Microsoft Defender network', { ip: '40.107.22.1' }, ['scanner_network']],
    ['Proofpoint network', { ip: '148.163.140.5' }, ['scanner_network']],
    ['IPv4-mapped IPv6 is unwrapped', { ip: '::ffff:17.1.2.3' }, ['apple_mail_privacy_proxy']],
    ['several signals at once', { method: 'HEAD', at: sentAt + 1000, userAgent: 'Go-http-client/1.1' }, ['head_request', 'too_soon_after_send', 'scanner_user_agent']],
  ])('%s', (_name, patch, reasons) => {
    const v = classifyHit({ ...person, ...patch });
    expect(v.reasons).toEqual(reasons);
    expect(v.flagged).toBe(reasons.length > 0);
  });
});

describe('clickBurst', () => {
  const c = (id: string, linkId: string, at: number) => ({ id, linkId, at });
  it.each<[string, ReturnType<typeof c>[], number, string[]]>([
    ['every link within a second', [c('1', 'a', 0), c('2', 'b', 300), c('3', 'c', 600)], 3, ['1', '2', '3']],
    ['two of two links', [c('1', 'a', 0), c('2', 'b', 1500)], 2, ['1', '2']],
    ['three of ten links is enough', [c('1', 'a', 0), c('2', 'b', 100), c('3', 'c', 200)], 10, ['1', '2', '3']],
    ['a person clicking two of ten links', [c('1', 'a', 0), c('2', 'b', 20_000)], 10, []],
    ['slow clicks on every link', [c('1', 'a', 0), c('2', 'b', 60_000), c('3', 'c', 120_000)], 3, []],
    ['same link twice is not a burst', [c('1', 'a', 0), c('2', 'a', 200)], 2, []],
    ['one-link emails have no bursts', [c('1', 'a', 0), c('2', 'a', 1)], 1, []],
    ['only the burst is flagged', [c('0', 'a', -60_000), c('1', 'a', 0), c('2', 'b', 100), c('3', 'c', 200)], 3, ['1', '2', '3']],
  ])('%s', (_name, clicks, links, flagged) => {
    expect(clickBurst(clicks, links)).toEqual(flagged);
  });
});
