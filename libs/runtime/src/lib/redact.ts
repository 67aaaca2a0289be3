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
] as const;

export const REDACTED = '[REDACTED]';

const SECRET_SET = new Set(SECRET_NAMES.map((n) => n.toLowerCase()));

export function isSecretName(name: string): boolean {
  return SECRET_SET.has(name.toLowerCase());
}

// A pair name may itself be percent-encoded (`pass%5Fhash`) or carry brackets (`key[]`, `key[0]`);
// a value runs to the next separator. Matching on the decoded name is done in the callback.
const PAIR = /([?&;\s"'(,{]|^)([A-Za-z0-9_%.\-[\]]+)=([^&#\s"',}]*)/g;
// Pairs nested, percent-encoded, in another parameter's value (`returnTo=…%26ipsconnectKey%3D…`).
const ENCODED_PAIR = /(%26|%3F)([A-Za-z0-9_.-]+)(=|%3D)((?:(?!%26|&|#|\s|"|').)*)/gi;
// JSON text: "name": "value" (or a number).
const JSON_PAIR = /"([A-Za-z0-9_.\-]+)"(\s*:\s*)("(?:[^"\\]|\\.)*"|-?\d[\d.eE+-]*)/g;
// HTTP-style "Authorization: Bearer xyz" and bare "Bearer xyz" / "Basic xyz".
const SCHEME = /\b(Bearer|Basic|Digest)\s+[A-Za-z0-9._~+/=:-]+/gi;
// Credentials in URLs: scheme://user:password@host
const USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/[^\s/:@]*:)[^\s/@]+@/gi;
// ... with the colon percent-encoded (scheme://user%3Apassword@host), or the whole URL encoded in a
// parameter value (url=http%3A%2F%2Fuser%3Apassword%40host): the whole userinfo goes.
const ENCODED_USERINFO = /(\b[a-z][a-z0-9+.-]*:\/\/|%3A%2F%2F)((?:(?!%2F|%40|%3F|%23)[^\s&#/?@])*%3A(?:(?!%2F|%40|%3F|%23)[^\s&#/?@])*)(%40|@)/gi;

function decodeName(raw: string): string {
  let name = raw;
  try {
    name = decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    /* keep it raw */
  }
  return name.replace(/\[[^\]]*\]$/, '');
}

/**
 * Scrubs a string: the value of every secret `name=value` pair (URLs, query strings, bodies), of
 * every secret `"name": value` JSON member, credentials after Bearer/Basic, and passwords in URLs.
 */
export function redactString(text: string): string {
  let out = text;
  if (/%26|%3F/i.test(out)) {
    out = out.replace(ENCODED_PAIR, (whole, lead: string, name: string, eq: string) => (isSecretName(name) ? `${lead}${name}${eq}${REDACTED}` : whole));
  }
  if (out.includes('=')) {
    out = out.replace(PAIR, (whole, lead: string, name: string) => (isSecretName(decodeName(name)) ? `${lead}${name}=${REDACTED}` : whole));
  }
  if (out.includes('"')) {
    out = out.replace(JSON_PAIR, (whole, name: string, sep: string) => (isSecretName(name) ? `"${name}"${sep}"${REDACTED}"` : whole));
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
