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

// A pair name may itself be percent-encoded (`pass%5Fhash`) or carry brackets (`key[]`); a value
// runs to the next separator. Matching on the decoded name is done in the callback.
const PAIR = /([?&;\s"'(]|^)([A-Za-z0-9_%.\-[\]]+)=([^&#\s"']*)/g;

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).replace(/\[\]$/, '');
  } catch {
    return raw;
  }
}

/** Replaces the value of every secret `name=value` pair in a string (URL, query string, body). */
export function redactString(text: string): string {
  if (!text.includes('=')) return text;
  return text.replace(PAIR, (whole, lead: string, name: string) =>
    isSecretName(decodeName(name)) ? `${lead}${name}=${REDACTED}` : whole,
  );
}

/** A copy of `value` with every secret-named property replaced and every string scrubbed. */
export function redactDeep(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return redactString(value);
  if (value === null || typeof value !== 'object' || depth > 8) return value;
  if (value instanceof Error) {
    const copy: Record<string, unknown> = { type: value.name, message: redactString(value.message) };
    if (value.stack) copy['stack'] = redactString(value.stack);
    return copy;
  }
  if (Array.isArray(value)) return value.map((v) => redactDeep(v, depth + 1));
  if (value instanceof Date || Buffer.isBuffer(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
    out[k] = isSecretName(k) ? REDACTED : redactDeep(v, depth + 1);
  }
  return out;
}
