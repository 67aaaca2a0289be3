import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox, constantTimeEqual, md5Hex } from '@switchboard/crypto';
import { SettingEntity, SlaveEntity } from '@switchboard/db';
import { IDENTITY_OPTIONS, IdentityOptions } from './identity-options';

export const MASTER_KEY_PURPOSE = 'slave-master-key';
export const GLOBAL_KEY_SETTING = 'global_master_key';
const CACHE_MS = 2000;

/** Who presented a valid master key: the global key, or one slave's own master key (spec D5). */
export interface KeyMatch {
  via: 'global' | 'slave';
  /** The slave whose per-slave master key matched. */
  slaveId: number | null;
}

interface KeySet {
  global: string | null;
  slaves: { id: number; url: string; key: string }[];
  loadedAt: number;
}

/**
 * Master keys: the configured global MK (unless an operator switched it off) and the per-slave
 * master keys issued through the admin API. Keys are compared in constant time, each candidate
 * tried (a handful of MD5s per request); a cache of 2 s keeps the database out of the hot path.
 */
@Injectable()
export class KeyringService {
  private cache?: KeySet;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityOptions,
  ) {}

  invalidate() {
    this.cache = undefined;
  }

  async globalKeyEnabled(): Promise<boolean> {
    const row = await this.db.getRepository(SettingEntity).findOneBy({ key: GLOBAL_KEY_SETTING });
    return row ? row.value !== false : true;
  }

  private async keys(): Promise<KeySet> {
    if (this.cache && Date.now() - this.cache.loadedAt < CACHE_MS) return this.cache;
    const [enabled, slaves] = await Promise.all([
      this.globalKeyEnabled(),
      this.db
        .getRepository(SlaveEntity)
        .createQueryBuilder('s')
        .where('s.master_key_sealed IS NOT NULL')
        .getMany(),
    ]);
    this.cache = {
      global: enabled ? this.options.masterKey : null,
      slaves: slaves.map((s) => ({ id: s.id, url: s.url, key: this.box.open(s.masterKeySealed!, MASTER_KEY_PURPOSE) })),
      loadedAt: Date.now(),
    };
    return this.cache;
  }

  /**
   * Checks `given` against every master key, as `raw` (no-id actions) or `md5(key . id)` over the id
   * exactly as received. Every candidate is compared, so timing does not tell which one matched.
   */
  async match(given: string | undefined, id: string | null, url: string | undefined): Promise<KeyMatch | null> {
    if (given === undefined) return null;
    const keys = await this.keys();
    const expected = (key: string) => (id === null ? key : md5Hex(key, id));
    // When `url` names a slave with its own key, that key is tried first (spec D5).
    const ordered = [...keys.slaves].sort((a, b) => Number(b.url === url) - Number(a.url === url));
    let found: KeyMatch | null = null;
    for (const slave of ordered) {
      if (constantTimeEqual(given, expected(slave.key)) && !found) found = { via: 'slave', slaveId: slave.id };
    }
    if (keys.global !== null && constantTimeEqual(given, expected(keys.global)) && !found) found = { via: 'global', slaveId: null };
    return found;
  }
}
