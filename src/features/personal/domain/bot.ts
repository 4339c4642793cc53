/**
 * Is a tracking hit a person, or a machine that fetched the pixel or followed the link on its own?
 * Such hits are still recorded, but flagged and left out of counts, timelines and notifications.
 *
 * Signals (each one is enough):
 * - `head_request`: a HEAD request (link checkers and previewers; a person's client sends GET);
 * - `before_send` / `too_soon_after_send`: the hit came before the email was sent, or within seconds of it
 *   (receiving gateways scan mail on arrival; a person has not read it yet);
 * - `scanner_user_agent`: a known link scanner, crawler, HTTP library or link previewer;
 * - `no_user_agent`: no User-Agent at all (scripts; every mail client sends one);
 * - `apple_mail_privacy_proxy`: Apple Mail Privacy Protection fetches every image of every message
 *   through Apple's proxy (17.0.0.0/8, and the bare `Mozilla/5.0` user agent) whether or not it is read;
 * - `scanner_network`: addresses of mail-security services that follow links (Microsoft Defender /
 *   Exchange Online Protection, Proofpoint, Mimecast, Barracuda) and of crawlers;
 * - `all_links_clicked`: clicks on every link (at least two, at most three needed) within a few seconds
 *   of each other: a scanner walking the links (`clickBurst`, which flags the whole burst).
 *
 * Opens fetched through Gmail's or Yahoo's image proxies are real opens (they fetch when the person
 * opens the message) and are not flagged. Pure; the lists are data and can be extended.
 */
import { cidrContains, parseCidr, parseIp, type Cidr } from '../../../platform/security/address-ranges.js';

export const BOT_REASONS = [
  'head_request',
  'before_send',
  'too_soon_after_send',
  'scanner_user_agent',
  'no_user_agent',
  'apple_mail_privacy_proxy',
  'scanner_network',
  'all_links_clicked',
] as const;
export type BotReason = (typeof BOT_REASONS)[number];

export interface HitFacts {
  kind: 'open' | 'click';
  method: string;
  userAgent: string | null;
  ip: string | null;
  /** When the hit happened (epoch ms). */
  at: number;
  /** When the email was sent (epoch ms); null while it has not left. */
  sentAt: number | null;
}

export interface BotRules {
  /** Hits sooner than this after sending are prefetches. */
  minMsAfterSend: number;
  scannerUserAgents: readonly RegExp[];
  /** User agents of Apple's Mail Privacy Protection proxy (exact match after trimming). */
  applePrivacyUserAgents: readonly string[];
  applePrivacyNetworks: readonly Cidr[];
  scannerNetworks: readonly Cidr[];
  /** Clicks on this many distinct links (or all of them when fewer) within `burstWindowMs` are a scanner. */
  burstLinks: number;
  burstWindowMs: number;
}

const cidrs = (list: readonly string[]): Cidr[] => list.map((t) => parseCidr(t)).filter((c): c is Cidr => c !== null);

export const DEFAULT_BOT_RULES: BotRules = {
  minMsAfterSend: 10_000,
  scannerUserAgents: [
    /\b(bot|crawler|spider|slurp|scanner|preview|prefetch|validator|checker)\b/i,
    /bot\//i,
    /^(curl|wget|httpie|python-requests|python-urllib|aiohttp|go-http-client|java\/|okhttp|apache-httpclient|libwww|lwp::|node-fetch|axios|undici|ruby|php|guzzle|powershell|winhttp)/i,
    /headlesschrome|phantomjs|puppeteer|playwright|selenium/i,
    /barracuda|mimecast|proofpoint|urldefense|symantec|messagelabs|trend ?micro|fireeye|forcepoint|sophos|zscaler|cisco|ironport|safelinks|safe ?links|avanan|checkpoint|fortinet|fortiguard|websense|agari|abnormal/i,
    /microsoft office (existence|protocol) discovery|ms-office.*discovery|msoffice.*discovery/i,
    /facebookexternalhit|twitterbot|linkedinbot|slackbot|discordbot|telegrambot|whatsapp|skypeuripreview|embedly|googlebot|bingbot|bingpreview|yandex|baiduspider|duckduckbot/i,
  ],
  applePrivacyUserAgents: ['Mozilla/5.0'],
  applePrivacyNetworks: cidrs(['17.0.0.0/8']),
  scannerNetworks: cidrs([
    // Microsoft Exchange Online Protection / Defender for Office 365 (Safe Links detonation)
    '40.92.0.0/15',
    '40.107.0.0/16',
    '52.100.0.0/14',
    '104.47.0.0/17',
    // Proofpoint
    '148.163.128.0/19',
    '67.231.144.0/20',
    // Mimecast
    '205.139.110.0/24',
    '207.211.30.0/24',
    '216.205.24.0/24',
    '170.10.128.0/21',
    // Barracuda
    '64.235.144.0/20',
    '209.222.80.0/21',
    // Google crawlers (not the Gmail image proxy, which fetches on a real open)
    '66.249.64.0/19',
  ]),
  burstLinks: 3,
  burstWindowMs: 5_000,
};

export interface HitVerdict {
  flagged: boolean;
  reasons: BotReason[];
}

/** The signals of one hit on its own. */
export function classifyHit(h: HitFacts, rules: BotRules = DEFAULT_BOT_RULES): HitVerdict {
  const reasons: BotReason[] = [];
  if (h.method.toUpperCase() === 'HEAD') reasons.push('head_request');
  if (h.sentAt === null) reasons.push('before_send');
  else if (h.at - h.sentAt < rules.minMsAfterSend) reasons.push('too_soon_after_send');
  const ua = (h.userAgent ?? '').trim();
  if (!ua) reasons.push('no_user_agent');
  else if (rules.scannerUserAgents.some((re) => re.test(ua))) reasons.push('scanner_user_agent');
  const ip = h.ip ? parseIp(h.ip) : null;
  if ((ua && rules.applePrivacyUserAgents.includes(ua)) || (ip && rules.applePrivacyNetworks.some((c) => cidrContains(c, ip)))) reasons.push('apple_mail_privacy_proxy');
  if (ip && rules.scannerNetworks.some((c) => cidrContains(c, ip))) reasons.push('scanner_network');
  return { flagged: reasons.length > 0, reasons };
}

export interface ClickFact {
  id: string;
  linkId: string;
  at: number;
}

/**
 * The clicks that form a scanner's burst: within any `burstWindowMs`, clicks on at least
 * min(burstLinks, linkCount) distinct links (and at least two). A one-link email has no bursts (its
 * scanners are caught by timing, agent or network). Returns the ids of every click in such windows.
 */
export function clickBurst(clicks: readonly ClickFact[], linkCount: number, rules: Pick<BotRules, 'burstLinks' | 'burstWindowMs'> = DEFAULT_BOT_RULES): string[] {
  const need = Math.min(rules.burstLinks, linkCount);
  if (need < 2) return [];
  const sorted = [...clicks].sort((a, b) => a.at - b.at);
  // Sliding window with per-link counts: linear in the number of clicks.
  const inWindow = new Map<string, number>();
  const flagged = new Array<boolean>(sorted.length).fill(false);
  let lo = 0;
  let markedUpTo = -1;
  for (let hi = 0; hi < sorted.length; hi++) {
    const c = sorted[hi]!;
    inWindow.set(c.linkId, (inWindow.get(c.linkId) ?? 0) + 1);
    while (c.at - sorted[lo]!.at > rules.burstWindowMs) {
      const old = sorted[lo]!.linkId;
      const left = inWindow.get(old)! - 1;
      if (left === 0) inWindow.delete(old);
      else inWindow.set(old, left);
      lo++;
    }
    if (inWindow.size >= need) {
      for (let i = Math.max(lo, markedUpTo + 1); i <= hi; i++) flagged[i] = true;
      markedUpTo = hi;
    }
  }
  return sorted.filter((_, i) => flagged[i]).map((c) => c.id);
}
