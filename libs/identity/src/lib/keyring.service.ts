import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { KEYRING_VERSION_SQL } from '@switchboard/db';
import { MASTER_KEY_PURPOSE, SLAVE_KEY_PURPOSE, SecretBox } from '@switchboard/crypto';
import { KeyMatch, KeyringSnapshot, matchMasterKey } from '@switchboard/ips-protocol';
import { PassDigester } from '@switchboard/credentials';
import { IDENTITY_OPTIONS, IdentityOptions } from './identity-options';

export type { KeyMatch } from '@switchboard/ips-protocol';

export const GLOBAL_KEY_SETTING = 'global_master_key';
/**
 * Master keys and slaves' keys: the only store of them is here (the auth service), sealed at rest.
 * `snapshot()` reads them, unsealed, with their version in one transaction; the gateway receives
 * that snapshot over the internal API and keeps it until a call shows a newer version. This
 * service's own copy follows the same rule: one version read per check, a reload when it moved.
 */
@Injectable()
export class KeyringService {
  private cache?: KeyringSnapshot;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityOptions,
    @Inject(PassDigester) private readonly digester: PassDigester,
  ) {}

  async globalKeyEnabled(): Promise<boolean> {
    const rows = (await this.db.query(`SELECT value FROM settings WHERE key = $1`, [GLOBAL_KEY_SETTING])) as { value: unknown }[];
    return rows.length ? rows[0].value !== false : true;
  }

  /** Every key, unsealed, and the version they belong to, read in one snapshot. */
  async snapshot(): Promise<KeyringSnapshot> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      const [{ v }] = (await runner.query(KEYRING_VERSION_SQL)) as { v: number }[];
      const settings = (await runner.query(`SELECT value FROM settings WHERE key = $1`, [GLOBAL_KEY_SETTING])) as { value: unknown }[];
      const slaves = (await runner.query(
        `SELECT id, url, enabled, master_key_sealed, slave_key_sealed FROM slaves ORDER BY id`,
      )) as { id: number; url: string; enabled: boolean; master_key_sealed: string | null; slave_key_sealed: string | null }[];
      await runner.commitTransaction();
      return {
        version: v,
        global: settings.length && settings[0].value === false ? null : this.options.masterKey,
        passPepper: this.digester.pepperHex(),
        slaves: slaves.map((s) => ({
          id: s.id,
          url: s.url,
          enabled: s.enabled,
          masterKey: s.master_key_sealed ? this.box.open(s.master_key_sealed, MASTER_KEY_PURPOSE) : null,
          slaveKey: s.slave_key_sealed ? this.box.open(s.slave_key_sealed, SLAVE_KEY_PURPOSE) : null,
        })),
      };
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  /** The keys as of the last committed change (one version read; a reload when it moved). */
  async current(): Promise<KeyringSnapshot> {
    const [{ v }] = (await this.db.query(KEYRING_VERSION_SQL)) as { v: number }[];
    if (!this.cache || this.cache.version < v) {
      const fresh = await this.snapshot();
      if (!this.cache || fresh.version >= this.cache.version) this.cache = fresh;
    }
    return this.cache;
  }

  /** See matchMasterKey (ips-protocol): the raw key, or md5(key . id) over the id as received. */
  async match(given: string | undefined, id: string | null, url: string | undefined): Promise<KeyMatch | null> {
    if (given === undefined) return null;
    return matchMasterKey(await this.current(), given, id, url);
  }
}
