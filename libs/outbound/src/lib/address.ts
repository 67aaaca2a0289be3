import ipaddr from 'ipaddr.js';

const NAT64 = ipaddr.IPv6.parseCIDR('64:ff9b::/96');
const GLOBAL_UNICAST = ipaddr.IPv6.parseCIDR('2000::/3');

const v4Of = (hi: number, lo: number) => ipaddr.IPv4.parse(`${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`);

/** Why an IPv4 address is refused (its ipaddr.js range), or null for a public unicast address. */
function v4Refusal(a: ipaddr.IPv4): string | null {
  const range = a.range();
  return range === 'unicast' ? null : range;
}

/** The IPv4 addresses an IPv6 form carries (mapped, translated, NAT64, 6to4, Teredo server and client). */
function embeddedV4(a: ipaddr.IPv6, range: string): ipaddr.IPv4[] | null {
  const p = a.parts;
  switch (range) {
    case 'ipv4Mapped':
    case 'rfc6145':
      return [v4Of(p[6], p[7])];
    case 'rfc6052':
      // 64:ff9b::/96 carries the IPv4 address last; the local-use 64:ff9b:1::/48 is refused whole.
      return a.match(NAT64) ? [v4Of(p[6], p[7])] : null;
    case '6to4':
      return [v4Of(p[1], p[2])];
    case 'teredo':
      // 2001:0:<server>:<flags>:<port>:<client XOR ffff:ffff>
      return [v4Of(p[2], p[3]), v4Of(p[6] ^ 0xffff, p[7] ^ 0xffff)];
    default:
      return null;
  }
}

/**
 * IPv6 text as the WHATWG URL parser (and inet_pton) reads it: ipaddr.js reads `::a.b.c.d` as the
 * IPv4-mapped `::ffff:a.b.c.d`, where the socket layer sees the IPv4-compatible `::a.b.c.d`.
 * A zone id (`%eth0`) is dropped: it does not change the range.
 */
function canonicalV6(text: string): string {
  const zone = text.indexOf('%');
  return new URL(`http://[${zone === -1 ? text : text.slice(0, zone)}]/`).hostname.slice(1, -1);
}

/**
 * Why connecting to `address` is refused, or null when it is a public unicast address. Classified
 * by ipaddr.js: IPv4 must be in no special range (loopback, private, linkLocal, carrierGradeNat,
 * unspecified, multicast, broadcast, reserved, …); IPv6 must be global unicast (2000::/3) in no
 * special range, except that the IPv4-mapped, translated, NAT64 (64:ff9b::/96), 6to4 and Teredo
 * forms are judged by the IPv4 addresses they carry. Anything ipaddr.js cannot parse is refused.
 * The text may be any spelling ipaddr.js reads (`127.1`, `0x7f000001`, `::ffff:7f00:1`, a zone id).
 */
export function forbiddenRange(address: string): string | null {
  let parsed: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    parsed = ipaddr.parse(address.includes(':') ? canonicalV6(address) : address);
  } catch {
    return 'not an IP address';
  }
  if (parsed.kind() === 'ipv4') return v4Refusal(parsed as ipaddr.IPv4);
  const v6 = parsed as ipaddr.IPv6;
  const range = v6.range();
  if (range === 'unicast') return v6.match(GLOBAL_UNICAST) ? null : 'not global unicast (outside 2000::/3)';
  const carried = embeddedV4(v6, range);
  if (!carried) return range;
  for (const v4 of carried) {
    const refusal = v4Refusal(v4);
    if (refusal) return `${range} form of ${v4.toString()}, ${refusal}`;
  }
  return null;
}

/** `localhost` and `*.localhost` (RFC 6761), trailing dots and case ignored: loopback by name. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/\.+$/, '');
  return name === 'localhost' || name.endsWith('.localhost');
}
