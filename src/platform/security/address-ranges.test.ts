import { describe, expect, it } from 'vitest';
import {
  cidrContains,
  classifyIp,
  describeAddressClass,
  isAllowedDestination,
  parseCidr,
  parseIp,
  parseLooseIpv4,
  type AddressClass,
} from './address-ranges.js';

describe('classifyIp', () => {
  const table: Array<[string, AddressClass]> = [
    // IPv4 public
    ['8.8.8.8', 'public'],
    ['1.1.1.1', 'public'],
    ['93.184.216.34', 'public'],
    ['172.15.255.255', 'public'],
    ['172.32.0.0', 'public'],
    ['100.63.255.255', 'public'],
    ['100.128.0.0', 'public'],
    ['192.0.1.1', 'public'],
    ['198.17.255.255', 'public'],
    ['198.20.0.0', 'public'],
    ['223.255.255.255', 'public'],
    // IPv4 special
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'reserved'],
    ['10.0.0.5', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.1.1', 'link_local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['192.0.0.1', 'reserved'],
    ['192.0.0.170', 'reserved'],
    ['192.0.2.1', 'documentation'],
    ['198.51.100.7', 'documentation'],
    ['203.0.113.9', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['198.19.255.255', 'benchmarking'],
    ['192.88.99.1', 'reserved'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['254.255.255.255', 'reserved'],
    ['255.255.255.255', 'broadcast'],
    // Loose IPv4 spellings that getaddrinfo and browsers accept
    ['2130706433', 'loopback'],
    ['0x7f.1', 'loopback'],
    ['0x7f000001', 'loopback'],
    ['017700000001', 'loopback'],
    ['0177.0.0.1', 'loopback'],
    ['127.1', 'loopback'],
    ['127.0.1', 'loopback'],
    ['127.0.0.1.', 'loopback'],
    ['0', 'unspecified'],
    ['0xa9.0xfe.0xa9.0xfe', 'metadata'],
    ['2852039166', 'metadata'],
    ['012.0.0.1', 'private'],
    ['167772161', 'private'],
    // IPv6
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['0:0:0:0:0:0:0:1', 'loopback'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf:ffff::1', 'link_local'],
    ['fec0::1', 'private'],
    ['fc00::1', 'private'],
    ['fd00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fd00:ec2::254', 'metadata'],
    ['ff02::1', 'multicast'],
    ['ff05::2', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['3fff::1', 'documentation'],
    ['2001::1', 'reserved'], // Teredo
    ['2001:2::1', 'benchmarking'],
    ['100::1', 'reserved'],
    ['::2', 'reserved'],
    ['::127.0.0.1', 'reserved'], // deprecated IPv4-compatible
    ['4000::1', 'reserved'], // outside 2000::/3
    ['2606:4700:4700::1111', 'public'],
    ['2a00:1450:4001:82a::200e', 'public'],
    // IPv4-mapped IPv6: judged as the IPv4 address it connects to
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['[::ffff:127.0.0.1]', 'loopback'],
    ['::FFFF:10.0.0.1', 'private'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['::ffff:a9fe:a9fe', 'metadata'],
    ['::ffff:0.0.0.0', 'unspecified'],
    ['::ffff:8.8.8.8', 'public'],
    ['0:0:0:0:0:ffff:127.0.0.1', 'loopback'],
    // NAT64 and 6to4 carry an IPv4 address
    ['64:ff9b::127.0.0.1', 'loopback'],
    ['64:ff9b::a00:1', 'private'],
    ['64:ff9b::8.8.8.8', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::', 'loopback'],
    ['2002:a9fe:a9fe::1', 'metadata'],
    ['2002:0808:0808::1', 'public'],
    // Not addresses
    ['localhost', 'invalid'],
    ['example.com', 'invalid'],
    ['', 'invalid'],
    ['256.0.0.1', 'invalid'],
    ['1.2.3.4.5', 'invalid'],
    ['4294967296', 'invalid'],
    ['09.0.0.1', 'invalid'],
    ['0x7g.1', 'invalid'],
    [':::1', 'invalid'],
    ['1::2::3', 'invalid'],
    ['12345::1', 'invalid'],
  ];

  it.each(table)('%s is %s', (ip, expected) => {
    expect(classifyIp(ip)).toBe(expected);
  });

  it('only public addresses are allowed destinations', () => {
    for (const [ip, cls] of table) {
      expect(isAllowedDestination(ip), ip).toBe(cls === 'public');
    }
  });

  it('has words for every class', () => {
    const classes = new Set(table.map(([, c]) => c));
    for (const c of classes) expect(describeAddressClass(c)).toMatch(/address/);
  });
});

describe('parseIp', () => {
  it.each([
    ['127.0.0.1', '127.0.0.1', 4],
    ['2130706433', '127.0.0.1', 4],
    ['0x7f.1', '127.0.0.1', 4],
    ['017700000001', '127.0.0.1', 4],
    ['::ffff:127.0.0.1', '127.0.0.1', 4],
    ['[::1]', '::1', 6],
    ['0:0:0:0:0:0:0:1', '::1', 6],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1', 6],
    ['fe80::1%25eth0', 'fe80::1', 6],
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1', 6],
    ['64:ff9b::10.0.0.1', '64:ff9b::a00:1', 6],
  ] as const)('%s -> %s', (text, address, family) => {
    expect(parseIp(text)).toMatchObject({ address, family });
  });

  it('leaves host names alone', () => {
    for (const h of ['localhost', 'mail.example.com', '1e1', 'a.1', '127.0.0.1 x', '0x7f.example']) {
      expect(parseIp(h), h).toBeNull();
    }
  });

  it('parseLooseIpv4 fills the last part across the remaining bytes', () => {
    expect(Array.from(parseLooseIpv4('10.65535')!)).toEqual([10, 0, 255, 255]);
    expect(Array.from(parseLooseIpv4('10.1.65535')!)).toEqual([10, 1, 255, 255]);
    expect(parseLooseIpv4('10.1.65536')).toBeNull();
    expect(Array.from(parseLooseIpv4('1.2.3')!)).toEqual([1, 2, 0, 3]);
  });
});

describe('parseCidr / cidrContains', () => {
  const table: Array<[string, string, boolean]> = [
    ['10.0.0.0/8', '10.1.2.3', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['10.1.2.3/8', '10.200.0.1', true], // host bits ignored
    ['192.168.1.0/24', '192.168.1.255', true],
    ['192.168.1.0/24', '192.168.2.0', false],
    ['172.16.0.0/12', '172.31.0.1', true],
    ['127.0.0.1', '127.0.0.1', true],
    ['127.0.0.1', '127.0.0.2', false],
    ['127.0.0.0/8', '::ffff:127.0.0.9', true], // mapped addresses match IPv4 ranges
    ['0.0.0.0/0', '8.8.8.8', true],
    ['0.0.0.0/0', '::1', false], // families never mix
    ['fd00::/8', 'fd12::1', true],
    ['fd00::/8', 'fc00::1', false],
    ['::1', '::1', true],
    ['::1/128', '[::1]', true],
    ['::ffff:10.0.0.0/104', '10.9.9.9', true],
    ['2001:db8::/33', '2001:db8:8000::1', false],
    ['2001:db8::/33', '2001:db8:7fff::1', true],
  ];
  it.each(table)('%s contains %s: %s', (cidr, ip, expected) => {
    const c = parseCidr(cidr);
    expect(c).not.toBeNull();
    expect(cidrContains(c!, ip)).toBe(expected);
  });

  it.each(['10.0.0.0/33', '::/129', 'example.com/8', '10.0.0.0/', '10.0.0.0/-1', '10.0.0.0/8/8', '::ffff:1.2.3.4/64'])(
    'refuses %s',
    (text) => {
      expect(parseCidr(text)).toBeNull();
    },
  );

  it('canonicalises', () => {
    expect(parseCidr('10.1.2.3/8')!.text).toBe('10.0.0.0/8');
    expect(parseCidr('FD00:0:0::1/8')!.text).toBe('fd00::/8');
    expect(parseCidr('::1')!.text).toBe('::1/128');
  });
});
