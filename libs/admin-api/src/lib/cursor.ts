import { DEFAULT_PAGE_LIMIT } from '@switchboard/contracts';
import { ValidationProblem } from './problem';

/**
 * Opaque list cursors: base64url of `<list>:<position>`, the position being the sort key of the
 * last item served (an id, or an app's creation time and key). Opaque to clients (documented as
 * "pass next_cursor back"); not a secret and not signed: a forged cursor only moves the page.
 */
export function encodeCursor(list: string, position: string | number): string {
  return Buffer.from(`${list}:${position}`, 'utf8').toString('base64url');
}

/** The position a cursor of `list` holds, checked by `valid`; 400 (field `cursor`) otherwise. */
export function decodeCursor(list: string, cursor: string | undefined, valid: RegExp = /^[1-9][0-9]{0,18}$/): string | undefined {
  if (cursor === undefined) return undefined;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const prefix = `${list}:`;
  const position = text.startsWith(prefix) ? text.slice(prefix.length) : '';
  if (!valid.test(position)) throw new ValidationProblem([{ field: 'cursor', message: 'is not a cursor of this list (pass next_cursor back as it is)' }]);
  return position;
}

/** `rows` holds up to limit + 1 items: the page, and the cursor of the next one when there is more. */
export function pageOf<R, V>(list: string, rows: R[], limit: number | undefined, position: (row: R) => string | number, view: (row: R) => V): { items: V[]; next_cursor: string | null } {
  const n = limit ?? DEFAULT_PAGE_LIMIT;
  const items = rows.slice(0, n);
  return { items: items.map(view), next_cursor: rows.length > n && items.length ? encodeCursor(list, position(items[items.length - 1])) : null };
}
