import { createHash } from 'node:crypto';
import { http } from './system';

export const md5 = (...parts: string[]) => {
  const h = createHash('md5');
  for (const p of parts) h.update(p, 'utf8');
  return h.digest('hex');
};

/** IPS's own encoder for outgoing parameters (spec §1.3): `$ / @ :` stay literal, `+` is %2B. */
export function ipsEncode(value: string): string {
  return encodeURIComponent(value)
    .replace(/%(24|2F|40|3A|3F|5B|5D|2C|3B|3D)/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)))
    .replace(/[!'()*]/g, (c) => c);
}

export type Pairs = [string, string][] | Record<string, string>;

export function query(params: Pairs): string {
  const pairs = Array.isArray(params) ? params : Object.entries(params);
  return pairs.map(([k, v]) => `${ipsEncode(k)}=${ipsEncode(v)}`).join('&');
}

/** Calls the gateway as a slave does: GET with the query string (or POST with a form body). */
export function ipsClient(gatewayUrl: string) {
  const base = `${gatewayUrl}/ipsconnect`;
  return {
    get: (params: Pairs) => http(`${base}?${query(params)}`),
    post: (params: Pairs) => http(base, { method: 'POST', body: query(params) }),
    raw: (rawQuery: string) => http(`${base}?${rawQuery}`),
    url: (params: Pairs) => `${base}?${query(params)}`,
  };
}

/** A clock tests move by hand (lockouts, recent-authentication windows). */
export class TestClock {
  private t = Date.UTC(2026, 10, 23, 12, 0, 0);
  now = () => new Date(this.t);
  advance(ms: number) {
    this.t += ms;
  }
  sync() {
    this.t = Date.now();
  }
}
