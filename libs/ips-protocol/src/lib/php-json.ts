/**
 * PHP `json_encode` with default flags, as IPS answers: `/` escaped as `\/`, every non-ASCII
 * character as `\uXXXX` (UTF-16 code units, lowercase hex), integers as numbers, null as null.
 * Object members keep their insertion order (`status` first, spec D3).
 */
export function phpJsonEncode(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff/]/g, (ch) =>
    ch === '/' ? '\\/' : ch === '\u007f' ? ch : '\\u' + ch.charCodeAt(0).toString(16).padStart(4, '0'),
  );
}
