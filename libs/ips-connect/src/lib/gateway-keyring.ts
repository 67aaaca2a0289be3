import { Inject, Injectable } from '@nestjs/common';
import type { KeyringSnapshot } from '@switchboard/ips-protocol';
import { VersionedCopy } from '@switchboard/runtime';

/** Where the gateway receives key material from: the auth service, their only issuer and store. */
export interface KeyringSource {
  keyring(): Promise<KeyringSnapshot>;
}
export const KEYRING_SOURCE = Symbol('KEYRING_SOURCE');

/** A call needed keys newer than the auth service could hand over: answered "try again". */
export class KeyringUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyringUnavailableError';
  }
}

/**
 * The gateway's copy of the key material. It is never older than the last committed change: every
 * call reads the current `keyring_version` together with its data (one query), and a version newer
 * than this copy makes the gateway fetch the keys from auth before it checks the call. While auth
 * cannot answer such a fetch, calls that need the newer keys fail closed (SERVICE_UNAVAILABLE).
 * Concurrent calls share one fetch.
 */
@Injectable()
export class GatewayKeyring {
  private readonly copy: VersionedCopy<KeyringSnapshot>;

  constructor(@Inject(KEYRING_SOURCE) source: KeyringSource) {
    this.copy = new VersionedCopy(() => source.keyring(), (v) => new KeyringUnavailableError(`keys at version ${v} not available yet`));
  }

  /** The keys at `version` or later. */
  atLeast(version: number): Promise<KeyringSnapshot> {
    return this.copy.atLeast(version);
  }
}
