import { timingSafeEqual } from 'node:crypto';
import { constantTimeEqual, md5Hex } from '@switchboard/crypto';

import type { KeyringSlave, KeyringSnapshot } from '@switchboard/contracts';

// The key material's message (auth → gateway) is written once, in libs/contracts.
export type { KeyringSlave, KeyringSnapshot } from '@switchboard/contracts';

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
