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

export function byUtf8Name(a: [string, string], b: [string, string]): number {
  return Buffer.compare(Buffer.from(a[0], 'utf8'), Buffer.from(b[0], 'utf8'));
}

/** P of spec §1.2. `params` must already exclude `api_sig`; a repeated name must already be reduced. */
export function canonicalString(params: SignedParams): string {
  return [...params].sort(byUtf8Name).map(([k, v]) => k + v).join('');
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
  const b = signOrderB(params, method, secret);
  const a = signOrderA(params, method, secret);
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
  return method + '\n' + [...params].sort(byUtf8Name).map(([k, v]) => `${rfc3986(k)}=${rfc3986(v)}`).join('&');
}

export function signHmac(params: SignedParams, method: string, secret: string): string {
  return createHmac('sha256', secret).update(hmacMessage(params, method), 'utf8').digest('hex');
}

export function verifyHmac(given: string, params: SignedParams, method: string, secret: string): boolean {
  return safeEqualHex(given, signHmac(params, method, secret));
}

/**
 * A2: names and values must be well-formed UTF-8 without NUL or C0 control characters before any
 * signature check (this also closes the length-extension attack on order A, spec §1.5).
 * Values here are already decoded strings; an invalid byte sequence was marked by the decoder.
 */
export function hasForbiddenCharacters(text: string): boolean {
  // Lone surrogates cannot come from valid UTF-8; U+FFFD marks bytes the decoder could not read.
  return /[\u0000-\u001f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text);
}
