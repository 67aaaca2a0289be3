/**
 * PHP-style form decoding, as IPS reads `$_GET` / `$_POST` (spec §1.2, D2):
 * pairs split on `&`, `+` is a space, `%XX` decoded as bytes then read as UTF-8 (an invalid `%`
 * sequence stays as it is, as PHP's urldecode does), the **last** occurrence of a name wins, a name
 * with brackets (`name[]`, `name[x]`) makes an array, which every v2 parameter treats as missing,
 * and NUL bytes and U+202E are stripped from every value.
 */

/**
 * A parameter that is present but never usable as a v2 value: sent as an array (`name[]=`), or
 * not well-formed UTF-8 once decoded. Every action treats it as missing.
 */
export const ARRAY_PARAM = Symbol('ARRAY_PARAM');

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
class InvalidUtf8 extends Error {}
export type ParamValue = string | typeof ARRAY_PARAM;
export type Params = Map<string, ParamValue>;

function decodeComponent(raw: string): string {
  const text = raw.replace(/\+/g, ' ');
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
      const encoded = Buffer.from(text[i] + (ch >= 0xd800 && ch < 0xdc00 ? (text[i + 1] ?? '') : ''), 'utf8');
      if (ch >= 0xd800 && ch < 0xdc00) i++;
      bytes.push(...encoded);
    }
  }
  try {
    return UTF8.decode(Buffer.from(bytes));
  } catch {
    throw new InvalidUtf8();
  }
}

/**
 * PHP's register-variable rules for a name: leading spaces dropped; before the first `[`, spaces and
 * dots become `_`; a `[` without a closing `]` is itself turned into `_` (so `url[=x` sets `url_`).
 */
export function phpName(raw: string): string {
  const name = raw.replace(/^ +/, '');
  const open = name.indexOf('[');
  if (open > 0 && name.indexOf(']', open) !== -1) {
    return name.slice(0, open).replace(/[ .]/g, '_') + name.slice(open);
  }
  if (open > 0) return name.slice(0, open).replace(/[ .]/g, '_') + '_' + name.slice(open + 1);
  return name.replace(/[ .]/g, '_');
}

export function stripUnsafe(value: string): string {
  return value.replace(/[\u0000\u202e]/g, '');
}

/** Decodes one `application/x-www-form-urlencoded` string into `into` (later names overwrite). */
export function parseForm(raw: string, into: Params = new Map()): Params {
  if (!raw) return into;
  for (const piece of raw.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    const rawValue = eq === -1 ? '' : piece.slice(eq + 1);
    let name: string;
    try {
      name = phpName(stripUnsafe(decodeComponent(rawName)));
    } catch {
      continue; // a name that is not UTF-8 cannot be any parameter we read
    }
    const bracket = name.indexOf('[');
    if (bracket > 0) {
      into.set(name.slice(0, bracket), ARRAY_PARAM);
      continue;
    }
    if (!name) continue;
    try {
      into.set(name, stripUnsafe(decodeComponent(rawValue)));
    } catch {
      into.set(name, ARRAY_PARAM);
    }
  }
  return into;
}

/** `$_GET` then `$_POST` (POST overrides), as IPS merges them. */
export function parseRequestParams(queryString: string, formBody: string | undefined): Params {
  const params = parseForm(queryString);
  if (formBody) parseForm(formBody, params);
  return params;
}

/** A usable string value, or undefined when absent, empty, an array or not UTF-8. */
export function stringParam(params: Params, name: string): string | undefined {
  const value = params.get(name);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** PHP 8 loose `$value == 1` for a request string (`"1"`, `"01"`, `"1.0"`, `" 1"`, `"1e0"`…). */
export function phpEqualsOne(value: ParamValue | undefined): boolean {
  if (typeof value !== 'string') return false;
  const trimmed = value.replace(/^[ \t\n\r\v\f]+|[ \t\n\r\v\f]+$/g, '');
  if (!/^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/.test(trimmed)) return false;
  return Number(trimmed) === 1;
}

/**
 * A plain object for internal transport: arrays become `null` (present but unusable). With `only`,
 * parameters of other names are left out.
 */
export function paramsToObject(params: Params, only?: readonly string[]): Record<string, string | null> {
  const out: Record<string, string | null> = {};
  for (const [k, v] of params) {
    if (only && !only.includes(k)) continue;
    out[k] = v === ARRAY_PARAM ? null : v;
  }
  return out;
}

export function paramsFromObject(obj: Record<string, string | null>): Params {
  const out: Params = new Map();
  for (const [k, v] of Object.entries(obj)) out.set(k, v === null ? ARRAY_PARAM : String(v));
  return out;
}
