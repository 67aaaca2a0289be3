import { Inject, Injectable } from '@nestjs/common';
import type { KeyringSnapshot } from '@switchboard/ips-protocol';

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
  private snapshot?: KeyringSnapshot;
  private loading?: Promise<KeyringSnapshot>;

  constructor(@Inject(KEYRING_SOURCE) private readonly source: KeyringSource) {}

  /** The keys at `version` or later. */
  async atLeast(version: number): Promise<KeyringSnapshot> {
    const held = this.snapshot;
    if (held && held.version >= version) return held;
    // A fetch already under way may have read the keys before `version` was committed: at most
    // one more fetch then, which starts after this call's own read of the version.
    for (let attempt = 0; attempt < 2; attempt++) {
      const s = await this.load();
      if (s.version >= version) return s;
    }
    throw new KeyringUnavailableError(`keys at version ${version} not available yet`);
  }

  private load(): Promise<KeyringSnapshot> {
    if (!this.loading) {
      this.loading = this.source
        .keyring()
        .then((s) => {
          if (!this.snapshot || s.version >= this.snapshot.version) this.snapshot = s;
          return this.snapshot;
        })
        .finally(() => {
          this.loading = undefined;
        });
    }
    return this.loading;
  }
}
