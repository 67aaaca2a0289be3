import { constantTimeEqual } from '@switchboard/crypto';

/** Whether an `Authorization` header is `Bearer <t>` for one of `tokens` (constant-time compare). */
export function bearerMatches(header: string | string[] | undefined, tokens: readonly string[]): boolean {
  const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
  if (!match) return false;
  let ok = false;
  for (const token of tokens) if (token && constantTimeEqual(match[1], token)) ok = true;
  return ok;
}
