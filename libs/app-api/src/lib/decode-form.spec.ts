import fc from 'fast-check';
import { decodeForm } from './api-gateway.controller';

/** decodeForm as it was before its fast path for plain ASCII: every name and value decoded. */
function reference(raw: string, into: Map<string, string>): boolean {
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let undecodable = false;
  for (const piece of raw.split('&')) {
    if (!piece) continue;
    const eq = piece.indexOf('=');
    const dec = (s: string) => {
      const bytes = Buffer.from(s.replace(/\+/g, ' ').replace(/%([0-9A-Fa-f]{2})/g, (_m, h: string) => String.fromCharCode(parseInt(h, 16))), 'latin1');
      try {
        return utf8.decode(bytes);
      } catch {
        undecodable = true;
        return '\ufffd';
      }
    };
    into.set(dec(eq === -1 ? piece : piece.slice(0, eq)), dec(eq === -1 ? '' : piece.slice(eq + 1)));
  }
  return undecodable;
}

describe('decodeForm (A1)', () => {
  it('decodes like the full decoder, plain ASCII pieces taken as they are', () => {
    const piece = fc.oneof(
      fc.constantFrom('a', 'api_key', '=', '&', '+', '%', '%2', '%41', '%C3%A9', '%c3', '%FF', '%E2%82%AC', '%00', 'é', '\u00ff', '€', '😀', '\u0001', ' ', '~'),
      fc.string({ unit: 'binary-ascii', maxLength: 4 }),
    );
    const raw = fc.array(piece, { maxLength: 12 }).map((p) => p.join(''));
    fc.assert(
      fc.property(raw, (text) => {
        const got = new Map<string, string>();
        const want = new Map<string, string>();
        const a = decodeForm(text, got);
        const b = reference(text, want);
        return a === b && JSON.stringify([...got]) === JSON.stringify([...want]);
      }),
      { numRuns: 3000 },
    );
  });

  it('a repeated name keeps its last value; a lone name has an empty value', () => {
    const m = new Map<string, string>();
    expect(decodeForm('a=1&b&a=2&c=x+y%21', m)).toBe(false);
    expect([...m]).toEqual([
      ['a', '2'],
      ['b', ''],
      ['c', 'x y!'],
    ]);
  });
});
