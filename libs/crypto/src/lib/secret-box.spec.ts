import fc from 'fast-check';
import { SecretBox } from './secret-box';
import { constantTimeEqual, md5Hex } from './compare';

describe('SecretBox', () => {
  const box = new SecretBox('k'.repeat(40));

  it('round-trips any UTF-8 text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string(), (text, purpose) => {
        expect(box.open(box.seal(text, purpose), purpose)).toBe(text);
      }),
    );
  });

  it('never stores the plaintext and uses a fresh IV each time', () => {
    const a = box.seal('fedcba9876543210fedcba9876543210', 'slave-key');
    const b = box.seal('fedcba9876543210fedcba9876543210', 'slave-key');
    expect(a).not.toContain('fedcba98');
    expect(a).not.toEqual(b);
  });

  it('refuses a value sealed for another purpose or with another key', () => {
    const sealed = box.seal('secret', 'slave-key');
    expect(() => box.open(sealed, 'app-secret')).toThrow();
    expect(() => new SecretBox('x'.repeat(40)).open(sealed, 'slave-key')).toThrow();
  });

  it('refuses a tampered ciphertext', () => {
    const sealed = box.seal('secret value', 'p');
    const parts = sealed.split('.');
    const body = Buffer.from(parts[3], 'base64url');
    body[0] ^= 1;
    parts[3] = body.toString('base64url');
    expect(() => box.open(parts.join('.'), 'p')).toThrow();
  });
});

describe('compare helpers', () => {
  it('constantTimeEqual agrees with === on any pair', () => {
    fc.assert(fc.property(fc.string(), fc.string(), (a, b) => constantTimeEqual(a, b) === (a === b)));
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
  });

  it('md5Hex matches the spec vectors (PHP md5 over UTF-8 bytes)', () => {
    const MK = '0123456789abcdef0123456789abcdef';
    expect(md5Hex(MK, '42')).toBe('ef7d05c70b4fddc71bb6d4449bfdd60e');
    expect(md5Hex(MK, '')).toBe('8516ac99dc60603295de7bdb6a153530');
    expect(md5Hex(MK, 'jürgen@example.test')).toBe('f615eca5bcb79908f1df482e37e7f6f3');
  });
});
