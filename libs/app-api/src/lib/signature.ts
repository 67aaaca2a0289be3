import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/**
 * ipernity's `api_sig` (application API spec §1, decisions A2–A3).
 *
 * P, the canonical string: every received parameter except `api_sig` (and an uploaded file part),
 * sorted by name in UTF-8 byte order, each written name + value (decoded values, nothing between),
 * concatenated. Order B = md5(P + method + secret), order A = md5(secret + method + P); both are
 * computed before one constant-time comparison so timing does not tell which one matched.
 */
export type SignedParams = [name: string, value: string][];

/**
 * The order of the UTF-8 encodings of two strings (as `Buffer.compare` of them), without encoding
 * them: UTF-8 keeps the order of code points, and so does UTF-16 below U+D800. Where the first
 * differing code unit is a surrogate (a code point above U+FFFF, or a lone surrogate, which the
 * encoder turns into U+FFFD), the encodings are compared.
 */
export function compareUtf8(a: string, b: string): number {
  const n = a.length < b.length ? a.length : b.length;
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if ((x >= 0xd800 && x <= 0xdfff) || (y >= 0xd800 && y <= 0xdfff)) return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
    return x < y ? -1 : 1;
  }
  // One is a prefix of the other: the shorter one's encoding is a prefix too, or (a high surrogate
  // ending it, paired in the longer one) starts with EF where the longer one has F0–F4.
  return a.length === b.length ? 0 : a.length < b.length ? -1 : 1;
}

export function byUtf8Name(a: [string, string], b: [string, string]): number {
  return compareUtf8(a[0], b[0]);
}

/** The parameters sorted by name in UTF-8 byte order (a copy). */
function sorted(params: SignedParams): SignedParams {
  return params.length < 2 ? params : [...params].sort(byUtf8Name);
}

/** P of spec §1.2 over parameters already sorted by name. */
function joined(params: SignedParams): string {
  let p = '';
  for (const [k, v] of params) p += k + v;
  return p;
}

/** P of spec §1.2. `params` must already exclude `api_sig`; a repeated name must already be reduced. */
export function canonicalString(params: SignedParams): string {
  return joined(sorted(params));
}

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

export function signOrderB(params: SignedParams, method: string, secret: string): string {
  return md5(canonicalString(params) + method + secret);
}

export function signOrderA(params: SignedParams, method: string, secret: string): string {
  return md5(secret + method + canonicalString(params));
}

function safeEqualHex(a: string, b: string): boolean {
  const ba = Buffer.from(a.toLowerCase(), 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length === bb.length && timingSafeEqual(ba, bb);
}

/**
 * Verifies an md5 signature: order B always, order A when the key accepts it (on by default so the
 * published auth-page vectors pass). `api_sig` is compared case-insensitively.
 */
export function verifyMd5(given: string, params: SignedParams, method: string, secret: string, acceptOrderA: boolean): boolean {
  const p = canonicalString(params);
  const b = md5(p + method + secret);
  const a = md5(secret + method + p);
  const okB = safeEqualHex(given, b);
  const okA = safeEqualHex(given, a);
  return okB || (acceptOrderA && okA);
}

/** RFC 3986 encoding of A3: only A-Z a-z 0-9 - . _ ~ kept, every other UTF-8 byte %XX upper-case. */
export function rfc3986(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
}

/** A3's message: method + "\n" + Q (sorted `name=value` pairs, RFC 3986-encoded, joined by &). */
export function hmacMessage(params: SignedParams, method: string): string {
  return method + '\n' + sorted(params).map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
}

export function signHmac(params: SignedParams, method: string, secret: string): string {
  return createHmac('sha256', secret).update(hmacMessage(params, method), 'utf8').digest('hex');
}

export function verifyHmac(given: string, params: SignedParams, method: string, secret: string): boolean {
  return safeEqualHex(given, signHmac(params, method, secret));
}

const SUSPECT = /[\u0000-\u001f\ud800-\udfff\ufffd]/;
const FORBIDDEN = /[\u0000-\u001f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * A2: names and values must be well-formed UTF-8 without NUL or C0 control characters before any
 * signature check (this also closes the length-extension attack on order A, spec §1.5).
 * Values here are already decoded strings; an invalid byte sequence was marked by the decoder.
 */
export function hasForbiddenCharacters(text: string): boolean {
  // Lone surrogates cannot come from valid UTF-8; U+FFFD marks bytes the decoder could not read.
  // The common case (no control character, no surrogate, no U+FFFD) is one simple scan.
  if (!SUSPECT.test(text)) return false;
  return FORBIDDEN.test(text);
}
