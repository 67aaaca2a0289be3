import { createHash, createHmac } from 'node:crypto';
import { http } from './system';

/**
 * A minimal ipernity-style client for the tests, written from the spec (not from our library):
 * sorts parameters by name, signs order B md5(P + method + secret) (or A), or HMAC-SHA256 (A3).
 */
export class ApiClient {
  constructor(
    readonly base: string,
    readonly apiKey: string,
    readonly secret: string,
  ) {}

  static canonical(params: Record<string, string>): string {
    return Object.keys(params)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((k) => k + params[k])
      .join('');
  }

  sign(method: string, params: Record<string, string>, order: 'A' | 'B' = 'B'): string {
    const p = ApiClient.canonical(params);
    return createHash('md5').update(order === 'B' ? p + method + this.secret : this.secret + method + p, 'utf8').digest('hex');
  }

  signHmac(method: string, params: Record<string, string>): string {
    const enc = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
    const q = Object.keys(params)
      .sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))
      .map((k) => `${enc(k)}=${enc(params[k])}`)
      .join('&');
    return createHmac('sha256', this.secret).update(`${method}\n${q}`, 'utf8').digest('hex');
  }

  async call(
    method: string,
    params: Record<string, string> = {},
    opts: { sign?: 'A' | 'B' | 'none' | 'hmac'; post?: boolean; format?: string; key?: string | null } = {},
  ) {
    const all: Record<string, string> = { ...(opts.key === null ? {} : { api_key: opts.key ?? this.apiKey }), ...params };
    const sign = opts.sign ?? 'B';
    if (sign === 'hmac') all['api_sig'] = this.signHmac(method, all);
    else if (sign !== 'none') all['api_sig'] = this.sign(method, all, sign);
    const body = new URLSearchParams(all).toString();
    const url = `${this.base}/api/${method}${opts.format ? '/' + opts.format : ''}`;
    const res = opts.post ? await http(url, { method: 'POST', body }) : await http(`${url}?${body}`);
    return { status: res.status, text: res.text, headers: res.headers, json: () => res.json() };
  }
}
