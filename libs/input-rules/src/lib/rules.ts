/**
 * The input rules every protocol and API of Switchboard applies, written once: member ids, names,
 * e-mail addresses, URLs that may stand in a `Location` header or a request line, and integers
 * from query strings. Pure functions, no framework: the gateway, auth and admin sides all use them.
 */

/** Member ids are positive int4: `^[1-9][0-9]{0,9}$` and at most 2147483647 (spec D6). */
export const MAX_MEMBER_ID = 2147483647;
const MEMBER_ID = /^[1-9][0-9]{0,9}$/;

/** A member id exactly as the protocols allow it (spec D6), or null. */
export function parseMemberId(raw: string | undefined): number | null {
  if (raw === undefined || !MEMBER_ID.test(raw)) return null;
  const id = Number(raw);
  return id <= MAX_MEMBER_ID ? id : null;
}

/** Ids of int4 rows (slaves, grants, members) in a path: the member id rule. */
export const parseId = parseMemberId;

/** Ids of bigint rows (deliveries, events) in a path, kept as text: `^[1-9][0-9]{0,17}$`, or null. */
export function parseBigId(raw: string | undefined): string | null {
  return raw !== undefined && /^[1-9][0-9]{0,17}$/.test(raw) ? raw : null;
}

/** A positive int4 given as a number (JSON bodies), or null. */
export function memberIdNumber(value: unknown): number | null {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= MAX_MEMBER_ID ? value : null;
}

/** IPS's column sizes (members.name VARCHAR(255), members.email VARCHAR(150)). */
export const MAX_NAME = 255;
export const MAX_EMAIL = 150;
/** Something@something, no white space: what IPS itself checks before storing an address. */
export const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+$/;

/** A display name slaves can store: no control characters, within IPS's column size; else undefined. */
export function usableName(v: string | undefined): string | undefined {
  return v !== undefined && v.length > 0 && v.length <= MAX_NAME && !/[\u0000-\u001f\u007f]/.test(v) ? v : undefined;
}

/** An e-mail address slaves can store (EMAIL_PATTERN, at most 150 characters); else undefined. */
export function usableEmail(v: string | undefined): string | undefined {
  return v !== undefined && v.length <= MAX_EMAIL && EMAIL_PATTERN.test(v) ? v : undefined;
}

export const MAX_URL = 2048;

/**
 * An absolute http(s) URL of printable ASCII only: it will stand in `Location` headers (browser
 * chains) and request lines (propagation), where CR, LF or other bytes must never get through
 * (`new URL()` would silently drop tabs and newlines and accept what we then echo).
 */
export function isHttpUrl(value: string): boolean {
  if (value.length > MAX_URL || !/^[\x21-\x7e]+$/.test(value)) return false;
  try {
    const u = new URL(value);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
}

/**
 * A decimal integer from a query string within [min, max]: digits only (no sign, exponent, spaces
 * or leading zeros), else null. `max` defaults to the int4 range the database columns hold.
 */
export function parseBoundedInt(raw: string | undefined, min = 1, max = MAX_MEMBER_ID): number | null {
  if (raw === undefined || !/^(0|[1-9][0-9]{0,15})$/.test(raw)) return null;
  const n = Number(raw);
  return n >= min && n <= max ? n : null;
}
