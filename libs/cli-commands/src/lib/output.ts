/** A table cell as the CLI prints it: null as `-`, booleans as yes/no. */
export type Cell = string | number | boolean | null | undefined;

const text = (cell: Cell) => (cell === null || cell === undefined || cell === '' ? '-' : typeof cell === 'boolean' ? (cell ? 'yes' : 'no') : String(cell));

/** Control characters (a value from the API that would move the cursor or ring the bell) shown escaped. */
const printable = (value: string) => value.replace(/[\u0000-\u001f\u007f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);

/**
 * A plain-text table: a header row and one row per item, columns padded to their widest cell, the
 * last column unpadded. `(none)` when there are no rows.
 */
export function table(headers: string[], rows: Cell[][]): string {
  if (rows.length === 0) return '(none)\n';
  const cells = [headers, ...rows.map((r) => r.map((c) => printable(text(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n') + '\n';
}

/** An instant as the CLI shows it: ISO 8601 to the second, UTC. */
export const when = (iso: string | null | undefined) => (iso ? iso.replace(/\.\d{3}Z$/, 'Z') : null);

export const out = (s: string) => void process.stdout.write(s.endsWith('\n') ? s : s + '\n');
export const err = (s: string) => void process.stderr.write(s.endsWith('\n') ? s : s + '\n');

/** Machine output (`--json`): the value as JSON, one document on stdout. */
export const json = (value: unknown) => out(JSON.stringify(value, null, 2));

/** What a value from the API looks like in one line of a message. */
export const shown = (value: string) => printable(value);
