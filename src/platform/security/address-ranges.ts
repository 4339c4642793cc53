/**
 * Which IP addresses Mailroom may connect to on a user's behalf.
 *
 * Pure: no DNS, no sockets. Used by host-guard.ts before every outbound connection whose
 * destination a user (or an email) chose: IMAP/SMTP hosts typed into the connect form, and
 * remote images fetched through the image proxy.
 *
 * Everything is classified from the IANA special-purpose address registries
 * (IPv4: RFC 6890 and updates; IPv6: RFC 6890, 6052, 8215, 9637, 4193, 4291).
 */

import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  | 'public'
  /** RFC 1918 (10/8, 172.16/12, 192.168/16), IPv6 unique-local fc00::/7, deprecated site-local fec0::/10, local-use NAT64 64:ff9b:1::/48. */
  | 'private'
  /** 127/8, ::1. */
  | 'loopback'
  /** 169.254/16, fe80::/10. */
  | 'link_local'
  /** 0.0.0.0 and :: (Linux connects these to the local host). */
  | 'unspecified'
  /** 224/4, ff00::/8. */
  | 'multicast'
  /** 255.255.255.255. */
  | 'broadcast'
  /** 100.64/10 (carrier-grade NAT, RFC 6598): inside a provider's network. */
  | 'cgnat'
  /** Cloud instance-metadata endpoints (169.254.169.254, fd00:ec2::254, 100.100.100.200, ...). */
  | 'metadata'
  /** 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32, 3fff::/20. */
  | 'documentation'
  /** 198.18/15, 2001:2::/48. */
  | 'benchmarking'
  /** Everything else that is not globally routable unicast: 0/8, 192.0.0/24, 240/4, ::/96, 100::/64, 2001::/23, ... */
  | 'reserved'
  /** Not an IP address at all. */
  | 'invalid';

export interface ParsedIp {
  /** Canonical text: dotted quad for IPv4 (IPv4-mapped IPv6 is unwrapped), lower-case compressed IPv6 otherwise. */
  address: string;
  family: 4 | 6;
  /** 4 or 16 bytes, network order. */
  bytes: Uint8Array;
}

export interface Cidr {
  family: 4 | 6;
  bytes: Uint8Array;
  prefix: number;
  /** Canonical text, `address/prefix`. */
  text: string;
}

// ---------------------------------------------------------------------------------------------
// Parsing

/**
 * Strict IPv4 dotted quad, as `net.isIPv4` accepts it (no leading zeros).
 */
function parseDottedQuad(s: string): Uint8Array | null {
  if (!isIPv4(s)) return null;
  const parts = s.split('.').map(Number);
  return Uint8Array.from(parts);
}

/**
 * IPv4 written the loose way that inet_aton(3), getaddrinfo(3) and the WHATWG URL parser
 * accept: 1 to 4 parts, each decimal, octal (leading 0) or hex (0x), the last part filling
 * the remaining bytes. `2130706433`, `0x7f.1`, `017700000001`, `127.1` all mean 127.0.0.1.
 * A single trailing dot is allowed (`127.0.0.1.`).
 *
 * Returns null when the text is not an IPv4 number in any of these spellings, so callers can
 * treat it as a host name; a text that looks numeric but overflows (`256.1.1.1`,
 * `4294967296`) also returns null: no resolver maps it to an address.
 */
export function parseLooseIpv4(text: string): Uint8Array | null {
  let s = text.trim();
  if (s.endsWith('.')) s = s.slice(0, -1);
  if (s === '') return null;
  const parts = s.split('.');
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(part)) {
      // WHATWG accepts a bare "0x" as 0; inet_aton does not. Refusing is the safer reading,
      // but treating it as 0 (unspecified, refused anyway) is what a browser would do.
      n = part.length === 2 ? 0 : parseInt(part.slice(2), 16);
    } else if (/^0[0-7]+$/.test(part)) {
      n = parseInt(part.slice(1), 8);
    } else if (/^(0|[1-9][0-9]*)$/.test(part)) {
      n = parseInt(part, 10);
    } else {
      return null;
    }
    if (!Number.isSafeInteger(n)) return null;
    numbers.push(n);
  }
  const last = numbers[numbers.length - 1]!;
  const leading = numbers.slice(0, -1);
  if (leading.some((n) => n > 255)) return null;
  const lastBytes = 4 - leading.length;
  if (last >= 2 ** (8 * lastBytes)) return null;
  const out = new Uint8Array(4);
  leading.forEach((n, i) => (out[i] = n));
  for (let i = 0; i < lastBytes; i++) {
    out[3 - i] = Math.floor(last / 2 ** (8 * i)) % 256;
  }
  return out;
}

function parseIpv6(text: string): Uint8Array | null {
  if (!isIPv6(text)) return null;
  let s = text;
  const bytes = new Uint8Array(16);
  // Embedded dotted IPv4 tail: ::ffff:127.0.0.1, 64:ff9b::10.0.0.1
  let tail: Uint8Array | null = null;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail = parseDottedQuad(s.slice(lastColon + 1));
    if (!tail) return null;
    s = s.slice(0, lastColon + 1) + '0:0';
  }
  const halves = s.split('::');
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : [];
  const groups: number[] = [];
  if (halves.length === 2) {
    const missing = 8 - head.length - rest.length;
    if (missing < 1) return null;
    groups.push(...head.map((g) => parseInt(g, 16)), ...new Array<number>(missing).fill(0), ...rest.map((g) => parseInt(g, 16)));
  } else {
    if (head.length !== 8) return null;
    groups.push(...head.map((g) => parseInt(g, 16)));
  }
  if (groups.length !== 8 || groups.some((g) => !Number.isInteger(g) || g < 0 || g > 0xffff)) return null;
  groups.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  if (tail) bytes.set(tail, 12);
  return bytes;
}

function formatIpv4(b: Uint8Array): string {
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

function formatIpv6(b: Uint8Array): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((b[2 * i]! << 8) | b[2 * i + 1]!);
  // Longest run of two or more zero groups becomes "::" (RFC 5952).
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart === -1) return hex.join(':');
  const left = hex.slice(0, bestStart).join(':');
  const right = hex.slice(bestStart + bestLen).join(':');
  return `${left}::${right}`;
}

function isV4Mapped(b: Uint8Array): boolean {
  for (let i = 0; i < 10; i++) if (b[i] !== 0) return false;
  return b[10] === 0xff && b[11] === 0xff;
}

/**
 * Parses any IP literal a user or a resolver might hand us: dotted quad, the loose IPv4
 * spellings (see `parseLooseIpv4`), IPv6 with or without brackets, with an embedded IPv4
 * tail, with a zone id (`fe80::1%eth0`, the zone is dropped). IPv4-mapped IPv6
 * (`::ffff:127.0.0.1`) is unwrapped to its IPv4 address, because that is where a dual-stack
 * socket really connects. Returns null for anything that is not an IP literal (a host name).
 */
export function parseIp(text: string): ParsedIp | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone !== -1 && s.includes(':')) s = s.slice(0, zone);
  if (s.includes(':')) {
    const b = parseIpv6(s.toLowerCase());
    if (!b) return null;
    if (isV4Mapped(b)) {
      const v4 = b.slice(12);
      return { address: formatIpv4(v4), family: 4, bytes: v4 };
    }
    return { address: formatIpv6(b), family: 6, bytes: b };
  }
  const v4 = parseLooseIpv4(s);
  if (!v4) return null;
  return { address: formatIpv4(v4), family: 4, bytes: v4 };
}

/** `10.0.0.0/8`, `fd00::/8`, or a single address (taken as /32 or /128). Null if malformed. */
export function parseCidr(text: string): Cidr | null {
  const s = text.trim();
  const slash = s.indexOf('/');
  const addrText = slash === -1 ? s : s.slice(0, slash);
  const ip = parseIp(addrText);
  if (!ip) return null;
  // An IPv6 text that unwrapped to IPv4 (::ffff:10.0.0.0/104) keeps an IPv6-sized prefix.
  const writtenAsV6 = addrText.includes(':');
  const max = ip.family === 4 ? 32 : 128;
  let prefix = max;
  if (slash !== -1) {
    const p = s.slice(slash + 1);
    if (!/^[0-9]{1,3}$/.test(p)) return null;
    prefix = Number(p);
    if (writtenAsV6 && ip.family === 4) {
      if (prefix < 96 || prefix > 128) return null;
      prefix -= 96;
    }
    if (prefix > max) return null;
  }
  const bytes = ip.bytes.slice();
  // Zero the host bits so the canonical text is the network address.
  for (let bit = prefix; bit < max; bit++) {
    bytes[bit >> 3]! &= ~(0x80 >> (bit & 7));
  }
  const address = ip.family === 4 ? formatIpv4(bytes) : formatIpv6(bytes);
  return { family: ip.family, bytes, prefix, text: `${address}/${prefix}` };
}

function bytesInPrefix(bytes: Uint8Array, net: Uint8Array, prefix: number): boolean {
  const full = prefix >> 3;
  for (let i = 0; i < full; i++) if (bytes[i] !== net[i]) return false;
  const rem = prefix & 7;
  if (rem === 0) return true;
  const mask = (0xff << (8 - rem)) & 0xff;
  return (bytes[full]! & mask) === (net[full]! & mask);
}

/** Whether `ip` (any form `parseIp` accepts) lies inside `cidr`. */
export function cidrContains(cidr: Cidr, ip: string | ParsedIp): boolean {
  const p = typeof ip === 'string' ? parseIp(ip) : ip;
  if (!p || p.family !== cidr.family) return false;
  return bytesInPrefix(p.bytes, cidr.bytes, cidr.prefix);
}

// ---------------------------------------------------------------------------------------------
// Classification tables. Order matters: the first match wins, so specific entries (metadata
// endpoints) come before the ranges that contain them.

type Rule = readonly [cidr: string, cls: Exclude<AddressClass, 'public' | 'invalid'>];

const V4_RULES: readonly Rule[] = [
  ['169.254.169.254/32', 'metadata'], // AWS, GCP, Azure, OpenStack, DigitalOcean, Oracle...
  ['169.254.170.2/32', 'metadata'], // AWS ECS task metadata
  ['169.254.170.23/32', 'metadata'], // AWS EKS pod identity
  ['100.100.100.200/32', 'metadata'], // Alibaba Cloud
  ['0.0.0.0/32', 'unspecified'],
  ['0.0.0.0/8', 'reserved'], // "this network"
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'cgnat'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link_local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'], // IETF protocol assignments (incl. DS-Lite 192.0.0.0/29)
  ['192.0.2.0/24', 'documentation'],
  ['192.31.196.0/24', 'reserved'], // AS112-v4
  ['192.52.193.0/24', 'reserved'], // AMT
  ['192.88.99.0/24', 'reserved'], // deprecated 6to4 relay anycast
  ['192.168.0.0/16', 'private'],
  ['192.175.48.0/24', 'reserved'], // direct delegation AS112
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
];

const V6_RULES: readonly Rule[] = [
  ['fd00:ec2::254/128', 'metadata'], // AWS IMDS over IPv6
  ['fd00:ec2::23/128', 'metadata'], // AWS EKS pod identity over IPv6
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
  ['64:ff9b:1::/48', 'private'], // local-use NAT64 (RFC 8215)
  ['100::/64', 'reserved'], // discard-only
  ['2001:2::/48', 'benchmarking'],
  ['2001:db8::/32', 'documentation'],
  ['2001::/23', 'reserved'], // IETF protocol assignments, incl. Teredo 2001::/32
  ['3fff::/20', 'documentation'],
  ['5f00::/16', 'reserved'], // SRv6 SIDs
  ['fc00::/7', 'private'], // unique local
  ['fe80::/10', 'link_local'],
  ['fec0::/10', 'private'], // deprecated site-local
  ['ff00::/8', 'multicast'],
];

function compile(rules: readonly Rule[]): Array<[Cidr, Rule[1]]> {
  return rules.map(([text, cls]) => {
    const c = parseCidr(text);
    if (!c) throw new Error(`bad built-in CIDR ${text}`);
    return [c, cls];
  });
}

const V4_TABLE = compile(V4_RULES);
const V6_TABLE = compile(V6_RULES);
const NAT64_WKP = parseCidr('64:ff9b::/96')!;
const SIX_TO_FOUR = parseCidr('2002::/16')!;
const V4_COMPATIBLE = parseCidr('::/96')!;
const GLOBAL_UNICAST = parseCidr('2000::/3')!;

function classifyV4(bytes: Uint8Array): AddressClass {
  for (const [c, cls] of V4_TABLE) if (bytesInPrefix(bytes, c.bytes, c.prefix)) return cls;
  return 'public';
}

function classifyV6(bytes: Uint8Array): AddressClass {
  for (const [c, cls] of V6_TABLE) if (bytesInPrefix(bytes, c.bytes, c.prefix)) return cls;
  // Addresses that carry an IPv4 address and are routed to it: judge by the IPv4 address.
  if (bytesInPrefix(bytes, NAT64_WKP.bytes, NAT64_WKP.prefix)) return classifyV4(bytes.slice(12));
  if (bytesInPrefix(bytes, SIX_TO_FOUR.bytes, SIX_TO_FOUR.prefix)) return classifyV4(bytes.slice(2, 6));
  // Deprecated IPv4-compatible ::a.b.c.d (and the rest of ::/8): never a public destination.
  if (bytesInPrefix(bytes, V4_COMPATIBLE.bytes, V4_COMPATIBLE.prefix)) return 'reserved';
  if (!bytesInPrefix(bytes, GLOBAL_UNICAST.bytes, GLOBAL_UNICAST.prefix)) return 'reserved';
  return 'public';
}

/**
 * The class of an IP address. Accepts every literal form `parseIp` does, so
 * `classifyIp('::ffff:127.0.0.1')`, `classifyIp('2130706433')` and `classifyIp('0x7f.1')`
 * are all `'loopback'`. Returns `'invalid'` for text that is not an IP address.
 */
export function classifyIp(ip: string | ParsedIp): AddressClass {
  const p = typeof ip === 'string' ? parseIp(ip) : ip;
  if (!p) return 'invalid';
  return p.family === 4 ? classifyV4(p.bytes) : classifyV6(p.bytes);
}

/** Only globally routable unicast addresses are allowed destinations by default. */
export function isAllowedDestination(ip: string | ParsedIp): boolean {
  return classifyIp(ip) === 'public';
}

/** Words for messages: "a private address", "a loopback address", ... */
export function describeAddressClass(cls: AddressClass): string {
  switch (cls) {
    case 'public':
      return 'a public address';
    case 'private':
      return 'a private address';
    case 'loopback':
      return 'a loopback address';
    case 'link_local':
      return 'a link-local address';
    case 'unspecified':
      return 'the unspecified address';
    case 'multicast':
      return 'a multicast address';
    case 'broadcast':
      return 'the broadcast address';
    case 'cgnat':
      return 'a carrier-grade NAT address';
    case 'metadata':
      return 'a cloud metadata address';
    case 'documentation':
      return 'a documentation-only address';
    case 'benchmarking':
      return 'a benchmarking address';
    case 'reserved':
      return 'a reserved address';
    case 'invalid':
      return 'an invalid address';
  }
}
