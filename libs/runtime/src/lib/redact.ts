/**
 * What must never reach a log line (spec D16, application API §1.5): protocol keys, password hashes
 * and salts, signatures, tokens, frobs, secrets and credentials headers. Matched case-insensitively,
 * as object keys at any depth and as `name=value` pairs inside strings (query strings, form bodies).
 */
export const SECRET_NAMES = [
  'key',
  'password',
  'pass_hash',
  'pass_salt',
  'ourKey',
  'api_sig',
  'auth_token',
  'frob',
  'secret',
  'api_secret',
  'authorization',
  'cookie',
  'set-cookie',
  'x-internal-token',
  'master_key',
  'slave_key',
  'admin_token',
  'ipsconnectKey',
  // The admin side: a named admin token (`{"token": "sbat_…"}`, the console's sign-in form), the
  // console's CSRF token and its session cookie.
  'token',
  '_csrf',
  'x-csrf-token',
  'sb_admin_session',
] as const;

export const REDACTED = '[REDACTED]';

const SECRET_SET = new Set(SECRET_NAMES.map((n) => n.toLowerCase()));

const UTF8_LENIENT = new TextDecoder('utf-8', { fatal: false });
// What parsers strip from a name or what no reader can see: C0 controls (NUL), DEL, soft hyphen,
// zero-width and bidirectional marks (U+202E is stripped by the IPS parser), word joiners, BOM.
const INVISIBLE = /[\u0000-\u001f\u007f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]/g;

/** `%XX` decoded as bytes then read as UTF-8 (invalid sequences become U+FFFD), other characters kept. */
function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x25 && /^[0-9A-Fa-f]{2}$/.test(text.slice(i + 1, i + 3))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (ch < 0x80) {
      bytes.push(ch);
    } else {
      const cp = text.codePointAt(i)!;
      if (cp > 0xffff) i++;
      bytes.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
    }
  }
  return UTF8_LENIENT.decode(Buffer.from(bytes));
}

/** A name with `+` read as a space, `%XX` decoded (up to three times), invisible characters dropped, trimmed. */
function decodedParamName(raw: string): string {
  let name = raw.replace(/\+/g, ' ');
  for (let round = 0; round < 3 && name.includes('%'); round++) {
    const decoded = percentDecode(name);
    if (decoded === name) break;
    name = decoded;
  }
  name = name.replace(INVISIBLE, '').trim();
  return name;
}

/**
 * The name a parameter spelling stands for, as the protocol parsers read it, and then some: `+` is
 * a space, `%XX` decoded (up to three times, for names nested in other parameters' values), NUL,
 * U+202E and other invisible characters dropped, surrounding white space dropped, a bracket suffix
 * dropped (`key[]`, `key[0]`, even an unclosed `key[`), spaces and dots read as `_` (PHP's
 * register-variable rule), lower case. Every spelling that the IPS parser (`libs/ips-connect`
 * params.ts) or the application API maps to a secret name maps to that name here too; a few more
 * (`KEY`, `key `) do as well, which only redacts more.
 */
export function canonicalParamName(raw: string): string {
  if (/^[A-Za-z0-9_-]+$/.test(raw)) return raw.toLowerCase();
  let name = decodedParamName(raw);
  const bracket = name.indexOf('[');
  if (bracket > 0) name = name.slice(0, bracket).trim();
  return name.replace(/[ .]/g, '_').toLowerCase();
}

/**
 * PHP's other reading of a `[` with no `]` after it: the `[` itself becomes `_` (`pass[hash` is
 * `pass_hash`, params.ts). null when the name has no such bracket.
 */
function unclosedBracketName(raw: string): string | null {
  const name = decodedParamName(raw);
  const bracket = name.indexOf('[');
  if (bracket <= 0 || name.indexOf(']', bracket) !== -1) return null;
  return canonicalParamName(name.slice(0, bracket) + '_' + name.slice(bracket + 1));
}

export function isSecretName(name: string): boolean {
  if (SECRET_SET.has(canonicalParamName(name))) return true;
  const unclosed = /[[%]/.test(name) ? unclosedBracketName(name) : null;
  return unclosed !== null && SECRET_SET.has(unclosed);
}

/**
 * Scrubs a query string or form body exactly as the parsers split it: pairs on `&`, the name up to
 * the first `=`, the value up to the next `&` (whatever it holds: quotes, `#`, `;`).
 */
export function redactQuery(query: string): string {
  if (!query.includes('=')) return query;
  return query
    .split('&')
    .map((piece) => {
      const eq = piece.indexOf('=');
      return eq > 0 && isSecretName(piece.slice(0, eq)) ? `${piece.slice(0, eq)}=${REDACTED}` : piece;
    })
    .join('&');
}

/** A request target (`/path?query`): the query scrubbed pair by pair, then the whole as text. */
export function redactUrl(url: string): string {
  const q = url.indexOf('?');
  const whole = q === -1 ? url : url.slice(0, q + 1) + redactQuery(url.slice(q + 1));
  return redactString(whole);
}

// A pair in free text: after a separator, a name (anything but separators: `%00`, `+`, brackets,
// dots and raw control characters included; the name is canonicalized in the callback), `=`, and a
// value up to the next separator.
const PAIR = /([?&;\s"'(,{]|^)([^\s=&?"',;{}()<>]+)=([^&\s"',}]*)/g;
// A query string inside text (`GET /x?a=1&key=…`): scrubbed pair by pair, values to the next `&`.
const QUERY = /\?([^\s"'<>]*)/g;
// Pairs nested, percent-encoded, in another parameter's value (`returnTo=…%26ipsconnectKey%3D…`).
const ENCODED_PAIR = /(%26|%3F)((?:[A-Za-z0-9_.~!*+[\]-]|%(?!26|3D|3F)[0-9A-Fa-f]{2})+)(=|%3D)((?:(?!%26|&|#|\s|"|').)*)/gi;
// JSON text: "name": "value" (or a number).
const JSON_PAIR = /"((?:[^"\\]|\\.){1,200})"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/g;
// HTTP-style "Authorization: Bearer xyz" and bare "Bearer xyz" / "Basic xyz".
const SCHEME = /\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=:-]+/gi;
// Credentials in URLs: scheme://user:password@host
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;
// ... with the colon percent-encoded (scheme://user%3Apassword@host), or the whole URL encoded in a
// parameter value (url=http%3A%2F%2Fuser%3Apassword%40host): the whole userinfo goes.
const ENCODED_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/|%3A%2F%2F)((?:(?!%2F|%40|%3F|%23)[^\s&#/?@])*%3A(?:(?!%2F|%40|%3F|%23)[^\s&#/?@])*)(%40|@)/gi;

function jsonName(raw: string): string {
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return raw;
  }
}

/**
 * Scrubs a string: the value of every secret `name=value` pair (URLs, query strings, bodies), of
 * every secret `"name": value` JSON member, credentials after Bearer/Basic, and passwords in URLs.
 * Names are compared by what they stand for (canonicalParamName), not by how they are spelled.
 */
export function redactString(text: string): string {
  let out = text;
  if (/%26|%3F/i.test(out)) {
    out = out.replace(ENCODED_PAIR, (whole, lead: string, name: string, eq: string) => (isSecretName(name) ? `${lead}${name}${eq}${REDACTED}` : whole));
  }
  if (out.includes('=')) {
    if (out.includes('?')) out = out.replace(QUERY, (_whole, query: string) => `?${redactQuery(query)}`); // redactQuery keeps a run without '='
    out = out.replace(PAIR, (whole, lead: string, name: string) => (isSecretName(name) ? `${lead}${name}=${REDACTED}` : whole));
  }
  if (out.includes('"')) {
    out = out.replace(JSON_PAIR, (whole, name: string, sep: string) => (isSecretName(jsonName(name)) ? `"${name}"${sep}"${REDACTED}"` : whole));
  }
  if (/bearer|basic|digest/i.test(out)) out = out.replace(SCHEME, (_w, scheme: string) => `${scheme} ${REDACTED}`);
  if (out.includes('://')) out = out.replace(USERINFO, `$1${REDACTED}@`);
  if (/%3A/i.test(out)) out = out.replace(ENCODED_USERINFO, `$1${REDACTED}$3`);
  return out;
}

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * A copy of `value` with every secret-named property replaced and every string scrubbed. Only
 * plain objects and arrays are walked (class instances such as requests and sockets go through
 * their serializers); anything nested deeper than 8 levels is dropped, not logged unredacted.
 */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 8) return '[TOO DEEP]';
  if (value instanceof Error) {
    const copy: Record<string, unknown> = { type: value.name, message: redactString(value.message) };
    if (value.stack) copy['stack'] = redactString(value.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretName(k) ? REDACTED : redactDeep(v, depth + 1);
  }
  return out;
}
