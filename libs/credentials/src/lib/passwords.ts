import { hkdfSync, randomInt } from 'node:crypto';
import { constantTimeEqual, hmacSha256Hex, md5Hex } from '@switchboard/crypto';

/** `bcrypt` 6 (native, OpenBSD's implementation, hashes in the libuv thread pool); it ships no types. */
const nativeBcrypt: { hash(data: string | Buffer, setting: string): Promise<string> } = require('bcrypt');

/**
 * The network's password formats (spec §3.2). The master never needs the plaintext to answer
 * `login`: the slave sends the hash it computed, and the master compares it with what it stores.
 */

/** IPS 4 native: `crypt(plain, '$2a$13$' . salt)` for a 22-character salt. */
export const BCRYPT_HASH = /^\$2a\$13\$[./A-Za-z0-9]{53}$/;
/** IP.Board 3 legacy: `md5(md5(salt) . md5(legacyEscape(plain)))` for any other salt. */
export const LEGACY_HASH = /^[0-9a-f]{32}$/;
/** Salts the protocol carries (slaves store them in VARCHAR(22)). */
export const SALT = /^[\x21-\x7e]{1,22}$/;

const SALT_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A fresh 22-character IPS salt from a CSPRNG (IPS `generateSalt` used rand()). */
export function generateSalt(): string {
  let salt = '';
  for (let i = 0; i < 22; i++) salt += SALT_ALPHABET[randomInt(SALT_ALPHABET.length)];
  return salt;
}

export function isNativeSalt(salt: string): boolean {
  return salt.length === 22;
}

/** Whether `hash` has the format the slaves compute for an account with this salt. */
export function hashMatchesSaltFormat(hash: string, salt: string): boolean {
  return isNativeSalt(salt) ? BCRYPT_HASH.test(hash) : LEGACY_HASH.test(hash);
}

/** IPB3 input escaping of the plaintext, in IPB3's order (spec §3.2). */
export function legacyEscape(plain: string): string {
  return plain
    .replace(/&/g, '&amp;')
    .replace(/<!--/g, '&#60;&#33;--')
    .replace(/-->/g, '--&#62;')
    .replace(/<script/gi, '&#60;script')
    .replace(/>/g, '&gt;')
    .replace(/</g, '&lt;')
    .replace(/"/g, '&quot;')
    .replace(/\n/g, '<br />')
    .replace(/\$/g, '&#036;')
    .replace(/!/g, '&#33;')
    .replace(/'/g, '&#39;')
    .replace(/\\/g, '&#092;');
}

export function legacyHash(plain: string, salt: string): string {
  return md5Hex(md5Hex(salt), md5Hex(legacyEscape(plain)));
}

/** bcrypt reads at most 72 bytes of a password. */
const BCRYPT_MAX_KEY_BYTES = 72;

/**
 * PHP `crypt(plain, setting)` for a bcrypt setting (`$2a$NN$` + 22 salt characters), computed by the
 * native `bcrypt` in the libuv thread pool: the event loop is free while it runs.
 *
 * PHP (crypt_blowfish) cycles the password's UTF-8 bytes and its terminating NUL and reads the first
 * 72 bytes. OpenBSD's `$2a$` code does the same except that it keeps the length in a byte, so a
 * password of 255 bytes or more would wrap; passing at most 72 bytes makes the two agree. A NUL inside
 * the password is hashed as a byte, as bcryptjs does (the consent page refuses control characters).
 */
export async function bcryptCrypt(plain: string, setting: string): Promise<string> {
  let key = Buffer.from(plain, 'utf8');
  if (key.length > BCRYPT_MAX_KEY_BYTES) key = key.subarray(0, BCRYPT_MAX_KEY_BYTES);
  return nativeBcrypt.hash(key, setting);
}

/**
 * The hash a slave would compute for `plain` with `salt`: bcrypt `$2a$13$` (byte-identical to PHP
 * crypt; ~0.5 s of a thread-pool thread, never the event loop) or the legacy md5 scheme.
 */
export async function protocolHash(plain: string, salt: string): Promise<string> {
  if (!isNativeSalt(salt)) return legacyHash(plain, salt);
  return bcryptCrypt(plain, `$2a$13$${salt}`);
}

/**
 * Spec D13: the stored form of a `pass_hash`, a keyed digest (HMAC-SHA256 with a pepper derived from
 * SECRETS_KEY). A database leak gives nothing a slave would accept; `login` stays a microsecond.
 */
export class PassDigester {
  private readonly pepper: Buffer;

  /** From SECRETS_KEY (auth), or from the pepper itself as auth hands it to the gateway (hex). */
  constructor(secretsKey: string, from: 'secrets-key' | 'pepper' = 'secrets-key') {
    this.pepper = from === 'pepper' ? Buffer.from(secretsKey, 'hex') : PassDigester.pepperOf(secretsKey);
  }

  static pepperOf(secretsKey: string): Buffer {
    return Buffer.from(hkdfSync('sha256', secretsKey, 'switchboard', 'pass-digest/v1', 32));
  }

  /** The pepper, hex: handed to the gateway with the keys, so that it checks logins itself. */
  pepperHex(): string {
    return this.pepper.toString('hex');
  }

  digest(passHash: string): string {
    return hmacSha256Hex(this.pepper, passHash);
  }

  matches(passHash: string, storedDigest: string): boolean {
    return constantTimeEqual(this.digest(passHash), storedDigest);
  }
}
