/**
 * JSON request bodies (admin API, internal calls): parsed by Fastify's own parser (secure-json-parse,
 * `__proto__` / `constructor` poisoning refused), but only after two checks that keep hostile bodies
 * away from recursive code further on (validation, logging, `JSON.stringify` when relayed to auth):
 * - nesting deeper than MAX_JSON_DEPTH arrays/objects is refused before parsing (a 60 KiB body of
 *   `[[[[…` overflowed the stack of the admin service's relay to auth);
 * - text that is not well-formed Unicode (a lone surrogate sent as `\ud800`) is refused: PostgreSQL
 *   cannot store it (its `jsonb` rejects the escape) and no client of ours sends it.
 * Both answer 400 through the safety-net filter (codes below).
 */
export const MAX_JSON_DEPTH = 32;

export class JsonBodyError extends Error {
  readonly statusCode = 400;
  constructor(
    readonly code: 'SB_JSON_TOO_DEEP' | 'SB_JSON_NOT_UNICODE',
    message: string,
  ) {
    super(message);
    this.name = 'JsonBodyError';
  }
}

/** Whether JSON text nests arrays/objects deeper than `max` (strings and escapes skipped). Linear, no recursion. */
export function jsonDepthExceeds(text: string, max = MAX_JSON_DEPTH): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) {
      depth--;
    }
  }
  return false;
}

const LONE_SURROGATE = /\p{Cs}/u;

/** Whether every string (keys included) in a parsed JSON value is well-formed Unicode. Depth is bounded by the caller. */
export function jsonIsWellFormed(value: unknown): boolean {
  if (typeof value === 'string') return !LONE_SURROGATE.test(value);
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every(jsonIsWellFormed);
  for (const [k, v] of Object.entries(value)) {
    if (LONE_SURROGATE.test(k) || !jsonIsWellFormed(v)) return false;
  }
  return true;
}
