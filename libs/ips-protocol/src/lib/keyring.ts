import { timingSafeEqual } from 'node:crypto';
import { constantTimeEqual, md5Hex } from '@switchboard/crypto';

/**
 * The key material of IPS Connect calls, as the auth service (its only issuer and store) hands it
 * to the processes that check calls. `version` is the `keyring_version` setting read in the same
 * snapshot: every change of a key, a slave's registration or the global key switch increases it in
 * its own transaction (docs/architecture.md, "Key material").
 */
export interface KeyringSnapshot {
  version: number;
  /** The global master key, or null when the operator switched it off (per-slave keys only). */
  global: string | null;
  slaves: KeyringSlave[];
  /**
   * The key of the digest stored instead of `pass_hash` (spec D13; hex): logins are checked where
   * they arrive, in the gateway.
   */
  passPepper: string;
}

export interface KeyringSlave {
  id: number;
  url: string;
  enabled: boolean;
  /** Its own master key (spec D5), issued through the admin API; null when it has none. */
  masterKey: string | null;
  /** The key it registered with verifySettings (`ourKey`), used to sign calls and hops to it. */
  slaveKey: string | null;
}

/** Who presented a valid master key: the global key, or one slave's own master key (spec D5). */
export interface KeyMatch {
  via: 'global' | 'slave';
  /** The slave whose per-slave master key matched. */
  slaveId: number | null;
}

/** The key rule of every IPS Connect call: the raw master key, or md5(key . id) over the id as received. */
export function expectedKey(masterKey: string, id: string | null): string {
  return id === null ? masterKey : md5Hex(masterKey, id);
}

const HEX32 = /^[0-9a-f]{32}$/;

function equalHex(given: string, expected: string): boolean {
  return timingSafeEqual(Buffer.from(given, 'latin1'), Buffer.from(expected, 'latin1'));
}

/**
 * Checks `given` against the master keys, as the raw key (no-id actions) or `md5(key . id)` over
 * the id exactly as received. When `url` names a slave with its own key, that key is tried first
 * (spec D5), then the global key, then the other per-slave keys; every comparison is in constant
 * time. Keys are short printable strings: anything else is refused before any hashing.
 */
export function matchMasterKey(keys: KeyringSnapshot, given: string | undefined, id: string | null, url: string | undefined): KeyMatch | null {
  if (given === undefined || !/^[\x21-\x7e]{1,512}$/.test(given)) return null;
  // md5 answers are 32 lowercase hex digits: anything else cannot match any of them.
  if (id !== null && !HEX32.test(given)) return null;
  const same = id === null ? (key: string) => constantTimeEqual(given, key) : (key: string) => equalHex(given, md5Hex(key, id));
  const named = url === undefined ? undefined : keys.slaves.find((s) => s.url === url && s.masterKey !== null);
  if (named && same(named.masterKey!)) return { via: 'slave', slaveId: named.id };
  if (keys.global !== null && same(keys.global)) return { via: 'global', slaveId: null };
  for (const slave of keys.slaves) {
    if (slave !== named && slave.masterKey !== null && same(slave.masterKey)) return { via: 'slave', slaveId: slave.id };
  }
  return null;
}

/** The registered slave named by `url` (spec D4), whatever its keys. */
export function slaveByUrl(keys: KeyringSnapshot, url: string | undefined): KeyringSlave | undefined {
  return url === undefined ? undefined : keys.slaves.find((s) => s.url === url);
}
