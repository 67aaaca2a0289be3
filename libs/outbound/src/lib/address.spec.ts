import fc from 'fast-check';
import { forbiddenRange, isLoopbackName } from './address';
import { OutboundPolicy } from './policy';

/**
 * The oracle here is written independently of ipaddr.js: forbidden IPv4 blocks as integers
 * (RFC 6890), and "public" addresses drawn from first octets that are public unicast end to end.
 */
const BLOCKS: [string, number, number][] = [
  ['unspecified', 0x00000000, 8],
  ['private', 0x0a000000, 8],
  ['carrierGradeNat', 0x64400000, 10],
  ['loopback', 0x7f000000, 8],
  ['linkLocal', 0xa9fe0000, 16],
  ['private', 0xac100000, 12],
  ['private', 0xc0a80000, 16],
  ['reserved', 0xc0000000, 24],
  ['multicast', 0xe0000000, 4],
  ['reserved', 0xf0000000, 4],
];
const PUBLIC_FIRST_OCTETS = [1, 2, 3, 4, 5, 8, 9, 11, 23, 31, 45, 51, 62, 77, 80, 91, 104, 128, 130, 141, 151, 163, 176, 185, 188, 195, 212, 217, 223];

const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
const hex16 = (n: number) => [(n >>> 16) & 0xffff, n & 0xffff].map((x) => x.toString(16));

const forbiddenV4 = fc
  .tuple(fc.constantFrom(...BLOCKS), fc.integer({ min: 0, max: 0xffffffff }))
  .map(([[name, base, bits], r]) => ({ name, n: (base | (r & (2 ** (32 - bits) - 1))) >>> 0 }))
  // 255.255.255.255, inside 240.0.0.0/4, is named on its own.
  .map(({ name, n }) => ({ name: n === 0xffffffff ? 'broadcast' : name, n }));
const publicV4 = fc.tuple(fc.constantFrom(...PUBLIC_FIRST_OCTETS), fc.integer({ min: 0, max: 0xffffff })).map(([a, rest]) => ((a << 24) | rest) >>> 0);

/** Every way a URL host can spell an IPv4 address (WHATWG, inet_aton): all must mean the same. */
const v4Spelling = (n: number) =>
  fc.constantFrom(
    dotted(n),
    String(n),
    '0x' + n.toString(16),
    '0X' + n.toString(16).toUpperCase(),
    '0' + n.toString(8),
    [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((o) => '0' + o.toString(8)).join('.'),
    [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].map((o) => '0x' + o.toString(16)).join('.'),
    `${n >>> 24}.${n & 0xffffff}`,
    `${n >>> 24}.${(n >>> 16) & 255}.${n & 0xffff}`,
    `0x${(n >>> 24).toString(16)}.0${((n >>> 16) & 255).toString(8)}.${n & 0xffff}`,
    dotted(n) + '.',
  );

/** IPv6 forms that carry an IPv4 address, bracketed for a URL. */
const v6Carrying = (n: number) => {
  const [hi, lo] = hex16(n);
  const notN = hex16(~n >>> 0);
  return fc.constantFrom(
    `[::ffff:${dotted(n)}]`,
    `[::ffff:${hi}:${lo}]`,
    `[0:0:0:0:0:FFFF:${hi.toUpperCase()}:${lo.toUpperCase()}]`,
    `[0000:0000:0000:0000:0000:ffff:${hi.padStart(4, '0')}:${lo.padStart(4, '0')}]`,
    `[::ffff:0:${dotted(n)}]`,
    `[64:ff9b::${dotted(n)}]`,
    `[64:ff9b::${hi}:${lo}]`,
    `[2002:${hi}:${lo}::1]`,
    `[2001:0:${hi}:${lo}::${notN[0]}:${notN[1]}]`,
    `[2001:0:4136:e378:8000:63bf:${notN[0]}:${notN[1]}]`,
  );
};

const policy = new OutboundPolicy({ allowPrivate: false });
/** What the policy says of `http://<host>/` (no DNS: every host here is a literal address). */
const verdict = (host: string) => {
  const url = new URL(`http://${host}:8080/ipsconnect.php`);
  return policy.checkParsed(url);
};

describe('forbiddenRange (ipaddr.js classification)', () => {
  it('refuses every forbidden IPv4 address in every spelling a URL host accepts', () => {
    fc.assert(
      fc.property(forbiddenV4.chain(({ name, n }) => fc.tuple(fc.constant(name), fc.constant(n), v4Spelling(n))), ([name, n, spelling]) => {
        expect(forbiddenRange(dotted(n))).toBe(name);
        const refusal = verdict(spelling);
        expect(refusal?.rule).toBe('address');
        expect(refusal?.message).toContain(name);
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('refuses the IPv4-mapped, translated, NAT64, 6to4 and Teredo forms of a forbidden IPv4 address', () => {
    fc.assert(
      fc.property(forbiddenV4.chain(({ n }) => v6Carrying(n)), (host) => {
        expect(verdict(host)?.rule).toBe('address');
        expect(forbiddenRange(host.slice(1, -1))).not.toBeNull();
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('allows public IPv4 addresses in every spelling, and the IPv6 forms that carry them', () => {
    fc.assert(
      fc.property(publicV4.chain((n) => fc.tuple(fc.constant(n), v4Spelling(n), v6Carrying(n))), ([n, spelling, v6]) => {
        expect(forbiddenRange(dotted(n))).toBeNull();
        expect(verdict(spelling)).toBeNull();
        expect(verdict(v6)).toBeNull();
      }),
      { numRuns: 1000 },
    );
  }, 60_000);

  it('refuses loopback, unspecified, link-local, unique-local, site-local, multicast and non-global IPv6 in any spelling', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((x) => x.toString(16));
    const forbidden = fc.oneof(
      fc.constantFrom('::1', '0:0:0:0:0:0:0:1', '0000:0000:0000:0000:0000:0000:0000:0001', '::0001', '0::1', '::', '0:0:0:0:0:0:0:0'),
      fc.tuple(fc.integer({ min: 0xfe80, max: 0xfebf }), group, group).map(([a, b, c]) => `${a.toString(16)}::${b}:${c}`),
      fc.tuple(fc.integer({ min: 0xfc00, max: 0xfdff }), group, group).map(([a, b, c]) => `${a.toString(16)}:${b}::${c}`),
      fc.tuple(fc.integer({ min: 0xfec0, max: 0xfeff }), group).map(([a, b]) => `${a.toString(16)}::${b}`),
      fc.tuple(fc.integer({ min: 0xff00, max: 0xffff }), group).map(([a, b]) => `${a.toString(16).toUpperCase()}::${b}`),
      // IPv4-compatible (deprecated) and other addresses outside 2000::/3.
      fc.tuple(fc.integer({ min: 0, max: 0xffffffff })).map(([n]) => `::${dotted(n)}`).filter((s) => s !== '::0.0.0.1' && s !== '::0.0.0.0'),
      fc.tuple(fc.integer({ min: 0x0100, max: 0x1fff }), group).map(([a, b]) => `${a.toString(16)}::${b}`),
      fc.constantFrom('2001:db8::1', '64:ff9b:1::a00:1', '100::1'),
    );
    fc.assert(
      fc.property(forbidden, (address) => {
        expect(forbiddenRange(address)).not.toBeNull();
        expect(verdict(`[${address}]`)?.rule).toBe('address');
      }),
      { numRuns: 2000 },
    );
  }, 60_000);

  it('allows global unicast IPv6', () => {
    const group = fc.integer({ min: 0, max: 0xffff }).map((x) => x.toString(16));
    const first = fc.integer({ min: 0x2400, max: 0x2fff }).filter((x) => x !== 0x2620);
    fc.assert(
      fc.property(first, group, group, (a, b, c) => {
        const address = `${a.toString(16)}:${b}::${c}`;
        expect(forbiddenRange(address)).toBeNull();
        expect(verdict(`[${address}]`)).toBeNull();
      }),
    );
  }, 60_000);

  it('refuses the spellings the issue lists', () => {
    for (const host of [
      '127.0.0.1',
      '127.1',
      '2130706433',
      '0x7f000001',
      '0177.0.0.1',
      'localhost',
      'LocalHost.',
      'anything.localhost',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[::ffff:7f00:1]',
      '[64:ff9b::7f00:1]',
      '169.254.169.254',
      '10.0.0.1',
      '172.16.5.4',
      '192.168.1.1',
      '100.64.0.1',
      '0.0.0.0',
      '0',
      '255.255.255.255',
      '224.0.0.1',
      '[fe80::1]',
      '[fd00::1]',
    ]) {
      expect([host, verdict(host)?.rule]).toEqual([host, 'address']);
    }
    expect(isLoopbackName('localhost.example')).toBe(false);
    expect(forbiddenRange('not an address')).toBe('not an IP address');
  }, 60_000);

  it('lifts the address rule with SLAVE_URL_ALLOW_PRIVATE, never the scheme or credentials rules', () => {
    const open = new OutboundPolicy({ allowPrivate: true });
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '10.0.0.1']) expect(open.checkParsed(new URL(`http://${host}/`))).toBeNull();
    expect(open.checkParsed(new URL('ftp://127.0.0.1/'))?.rule).toBe('scheme');
    expect(open.checkParsed(new URL('file:///etc/passwd'))?.rule).toBe('scheme');
    expect(open.checkParsed(new URL('http://user:pw@127.0.0.1/'))?.rule).toBe('credentials');
    expect(open.checkParsed(new URL('http://user@127.0.0.1/'))?.rule).toBe('credentials');
  }, 60_000);
});
