import { Inject, Injectable } from '@nestjs/common';
import { VersionedCopy } from '@switchboard/runtime';
import type { AppKeyMaterial, AppKeysSnapshot } from './api-call';

/** Where the gateway receives application keys from: the auth service (`GET /internal/app-keys`). */
export interface AppKeySource {
  appKeys(): Promise<AppKeysSnapshot>;
}
export const APP_KEY_SOURCE = Symbol('APP_KEY_SOURCE');

/** A call needed application keys newer than the auth service could hand over: answered 503. */
export class AppKeysUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AppKeysUnavailableError';
  }
}

interface Held {
  version: number;
  keys: Map<string, AppKeyMaterial>;
}

/**
 * The gateway's copy of the application keys, kept per keyring version exactly like the IPS keys
 * (GatewayKeyring): every call reads the current `keyring_version` in its one statement, and a
 * version newer than this copy makes the gateway fetch every key from auth before it checks the
 * call. Every change of an app key in auth bumps the version in its transaction, so no key is
 * served older than the last committed change. Concurrent calls share one fetch; a fetch that fails
 * fails the call closed (503). An unknown api_key is answered by the copy at the current version
 * (no fetch per call).
 */
@Injectable()
export class GatewayAppKeys {
  private readonly copy: VersionedCopy<Held>;

  constructor(@Inject(APP_KEY_SOURCE) source: AppKeySource) {
    this.copy = new VersionedCopy(
      async () => {
        const s = await source.appKeys();
        return { version: s.version, keys: new Map(s.keys.map((k) => [k.apiKey, k])) };
      },
      (v) => new AppKeysUnavailableError(`application keys at version ${v} not available yet`),
    );
  }

  /** The key named `apiKey` as of `version` or later; null when no such key exists then. */
  async get(apiKey: string, version: number): Promise<AppKeyMaterial | null> {
    return (await this.copy.atLeast(version)).keys.get(apiKey) ?? null;
  }
}
