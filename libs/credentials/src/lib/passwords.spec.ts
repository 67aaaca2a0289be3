import bcryptjs from 'bcryptjs';
import fc from 'fast-check';
import { BCRYPT_HASH, PassDigester, bcryptCrypt, generateSalt, hashMatchesSaltFormat, legacyEscape, legacyHash, protocolHash } from './passwords';

const saltArb = fc.string({ unit: fc.constantFrom(...'./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'), minLength: 22, maxLength: 22 })
  // The 22nd character carries only 2 bits: crypt normalises it; keep salts in their canonical form.
  .map((s) => s.slice(0, 21) + '.Oeu'[s.charCodeAt(21) % 4]);

describe('network password formats (spec §3.2, §8)', () => {
  it('bcrypt output is byte-identical to PHP crypt() for the §8 vectors', async () => {
    expect(await protocolHash('correct horse', 'abcdefghijklmnopqrstuv')).toBe(
      '$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe',
    );
    expect(await protocolHash('pässwörd✓', 'abcdefghijklmnopqrstuv')).toBe(
      '$2a$13$abcdefghijklmnopqrstuu7P1CmFKpuTeNHBraH.7yyzltpvhvO52',
    );
  }, 20_000);

  it('native bcrypt gives exactly the strings bcryptjs gave (the previous implementation), long and NUL-holding passwords included', async () => {
    // Cost 4: the cost changes only the number of rounds, not how the password becomes the key.
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.string({ unit: 'binary', minLength: 60, maxLength: 300 }), fc.string({ unit: 'grapheme', maxLength: 120 })),
        saltArb,
        async (plain, salt) => {
          expect(await bcryptCrypt(plain, `$2a$04$${salt}`)).toBe(bcryptjs.hashSync(plain, `$2a$04$${salt}`));
        },
      ),
      { numRuns: 300 },
    );
    // At the network's cost, a password past 255 bytes (where OpenBSD's $2a$ length byte wraps).
    const long = 'ü'.repeat(140);
    expect(await protocolHash(long, 'abcdefghijklmnopqrstuv')).toBe(bcryptjs.hashSync(long, '$2a$13$abcdefghijklmnopqrstuv'));
  }, 60_000);

  it('legacy md5 scheme matches the §8 vectors, escaping included', () => {
    expect(legacyEscape('p@ss<word>&"!')).toBe('p@ss&lt;word&gt;&amp;&quot;&#33;');
    expect(legacyHash('p@ss<word>&"!', 'a1B2c')).toBe('bcd5fd83456b79c21b4a608c6f7dc439');
    expect(legacyHash('secret', 'a1B2c')).toBe('ac0deea758b3bd9b97e2dcc14e4cc534');
  });

  it('legacyEscape applies the IPB3 rules in order', () => {
    expect(legacyEscape("<!-- x --> <SCRIPT>$'\\\n")).toBe('&#60;&#33;-- x --&#62; &#60;script&gt;&#036;&#39;&#092;<br />');
  });

  it('generated salts are 22 characters of [0-9A-Za-z] and accepted by the format check', () => {
    for (let i = 0; i < 50; i++) {
      const salt = generateSalt();
      expect(salt).toMatch(/^[0-9A-Za-z]{22}$/);
    }
    expect(hashMatchesSaltFormat('$2a$13$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe', generateSalt())).toBe(true);
    expect(hashMatchesSaltFormat('bcd5fd83456b79c21b4a608c6f7dc439', 'a1B2c')).toBe(true);
    expect(hashMatchesSaltFormat('bcd5fd83456b79c21b4a608c6f7dc439', generateSalt())).toBe(false);
    expect(hashMatchesSaltFormat('correct horse', 'a1B2c')).toBe(false);
    expect(BCRYPT_HASH.test('$2y$10$abcdefghijklmnopqrstuufJyGQz74MaXA58G4n4SAlu8WLjGODFe')).toBe(false);
  });

  it('PassDigester: equal only for the same hash, and never the hash itself', () => {
    const d = new PassDigester('k'.repeat(40));
    fc.assert(
      fc.property(fc.string(), fc.string(), (a, b) => {
        expect(d.matches(a, d.digest(b))).toBe(a === b);
        expect(d.digest(a)).not.toContain(a.length > 3 ? a : '\u0000');
      }),
    );
    expect(new PassDigester('x'.repeat(40)).digest('h')).not.toBe(d.digest('h'));
  });
});
