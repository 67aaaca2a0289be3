import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { MASTER_KEY_PURPOSE, SLAVE_KEY_PURPOSE, SecretBox } from '@switchboard/crypto';
import { SlaveEntity, bumpKeyringVersion } from '@switchboard/db';
import { appendToOutbox, newEvent } from '@switchboard/events';

export interface SlaveRegistration {
  slaveId: number;
  /** true when the URL was not registered before. */
  created: boolean;
  /** true when an existing slave came back with another `ourKey` (a key rotation). */
  keyChanged: boolean;
  /** true when the slave had been disabled and is enabled again. */
  reenabled: boolean;
}

/** The registry of the network's sites. Only the auth service writes it. */
@Injectable()
export class SlavesService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
  ) {}

  /**
   * `verifySettings`: upsert by URL, keeping the slave's id (IPS's REPLACE gave it a new one and
   * orphaned its queue), store the new key sealed, enable it, and record `slave_registered` in the
   * outbox in the same transaction.
   */
  async register(url: string, slaveKey: string, now = new Date()): Promise<SlaveRegistration> {
    return this.db.transaction(async (manager) => {
      const existing = await manager
        .createQueryBuilder(SlaveEntity, 's')
        .where('s.url = :url', { url })
        .setLock('pessimistic_write')
        .getOne();
      const sealed = this.box.seal(slaveKey, SLAVE_KEY_PURPOSE);
      let registration: SlaveRegistration;
      if (!existing) {
        // ON CONFLICT covers two first registrations of one URL racing each other.
        const rows: { id: number; inserted: boolean }[] = await manager.query(
          `INSERT INTO slaves (url, slave_key_sealed, enabled, registered_at, updated_at, last_access_at)
           VALUES ($1, $2, true, $3, $3, $3)
           ON CONFLICT (url) DO UPDATE SET slave_key_sealed = EXCLUDED.slave_key_sealed, enabled = true,
             disabled_reason = NULL, updated_at = EXCLUDED.updated_at, last_access_at = EXCLUDED.last_access_at
           RETURNING id, (xmax = 0) AS inserted`,
          [url, sealed, now],
        );
        registration = { slaveId: rows[0].id, created: rows[0].inserted, keyChanged: false, reenabled: false };
      } else {
        const keyChanged =
          existing.slaveKeySealed !== null && this.box.open(existing.slaveKeySealed, SLAVE_KEY_PURPOSE) !== slaveKey;
        await manager.update(
          SlaveEntity,
          { id: existing.id },
          // A slave coming back starts with a clean record: the propagator counts a failing period from
          // its latest registration (updated_at) at the earliest.
          { slaveKeySealed: sealed, enabled: true, disabledReason: null, updatedAt: now, lastAccessAt: now },
        );
        registration = { slaveId: existing.id, created: false, keyChanged, reenabled: !existing.enabled };
      }
      await bumpKeyringVersion(manager);
      await appendToOutbox(
        manager,
        newEvent('slave_registered', 'auth', {
          slaveId: registration.slaveId,
          data: { url, created: registration.created, key_changed: registration.keyChanged, reenabled: registration.reenabled },
        }, now),
      );
      return registration;
    });
  }

  findByUrl(url: string): Promise<SlaveEntity | null> {
    return this.db.getRepository(SlaveEntity).findOneBy({ url });
  }

  findById(id: number): Promise<SlaveEntity | null> {
    return this.db.getRepository(SlaveEntity).findOneBy({ id });
  }

  /** Spec D4: a request naming a registered slave updates its last access. */
  async touch(slaveId: number, now: Date): Promise<void> {
    // At most once a minute per slave: logins must not all serialize on the slave's row.
    await this.db.query(
      `UPDATE slaves SET last_access_at = $2 WHERE id = $1 AND (last_access_at IS NULL OR last_access_at < $2::timestamptz - interval '1 minute')`,
      [slaveId, now],
    );
  }

  /**
   * The one way a slave is disabled: `disableSlave` (§2.2, `accessed`: the slave itself asked), a
   * slave answering DISABLED / HTTP 410 to a delivery, or the propagator's auto-disable (both through
   * `POST /internal/slaves/:id/disable`). Stops propagation and chains to it until it calls
   * verifySettings again; writes the row and its `slave_disabled` event. The propagator parks the
   * slave's pending deliveries (it owns them) whichever path disabled it.
   */
  async disable(slaveId: number, reason: string, now: Date, options: { accessed?: boolean } = {}): Promise<boolean> {
    return this.db.transaction(async (manager) => {
      const result = await manager
        .createQueryBuilder()
        .update(SlaveEntity)
        .set({ enabled: false, disabledReason: reason, updatedAt: now, ...(options.accessed === false ? {} : { lastAccessAt: now }) })
        .where('id = :id AND enabled', { id: slaveId })
        .execute();
      if (!result.affected) return false;
      await bumpKeyringVersion(manager);
      await appendToOutbox(manager, newEvent('slave_disabled', 'auth', { slaveId, data: { reason } }, now));
      return true;
    });
  }

  /**
   * Admin: issue a per-slave master key for `url` (spec D5), creating the slave (disabled until it
   * calls verifySettings with that key). A URL already registered is `exists` (nothing changed)
   * unless `rotate`: then its per-slave key is replaced (the old one stops working at once).
   */
  async issueMasterKey(url: string, now: Date, options: { rotate?: boolean } = {}): Promise<{ id: number; url: string; masterKey: string; created: boolean } | { exists: number }> {
    const masterKey = randomBytes(24).toString('hex');
    const sealed = this.box.seal(masterKey, MASTER_KEY_PURPOSE);
    return this.db.transaction(async (manager) => {
      const existing = await manager.createQueryBuilder(SlaveEntity, 's').where('s.url = :url', { url }).setLock('pessimistic_write').getOne();
      if (existing && !options.rotate) return { exists: existing.id };
      const rows: { id: number; inserted: boolean }[] = await manager.query(
        `INSERT INTO slaves (url, master_key_sealed, enabled, registered_at, updated_at)
         VALUES ($1, $2, false, $3, $3)
         ON CONFLICT (url) DO UPDATE SET master_key_sealed = EXCLUDED.master_key_sealed, updated_at = EXCLUDED.updated_at
         RETURNING id, (xmax = 0) AS inserted`,
        [url, sealed, now],
      );
      const { id, inserted } = rows[0];
      await bumpKeyringVersion(manager);
      await appendToOutbox(manager, newEvent('slave_created', 'auth', { slaveId: id, data: { url, created: inserted, per_slave_key: true, rotated: !inserted } }, now));
      return { id, url, masterKey, created: inserted };
    });
  }

  /**
   * Admin: enable a disabled slave again. Only one that has registered its own key (verifySettings)
   * can receive deliveries: `unverified` otherwise. The propagator puts its parked deliveries back
   * in line, in order (docs/propagation.md).
   */
  async enable(slaveId: number, now: Date): Promise<'enabled' | 'already' | 'unverified' | 'not_found'> {
    return this.db.transaction(async (manager) => {
      const slave = await manager.createQueryBuilder(SlaveEntity, 's').where('s.id = :id', { id: slaveId }).setLock('pessimistic_write').getOne();
      if (!slave) return 'not_found';
      if (slave.enabled) return 'already';
      if (slave.slaveKeySealed === null) return 'unverified';
      // Like a slave coming back through verifySettings: its failing period counts from now at the earliest.
      await manager.update(SlaveEntity, { id: slaveId }, { enabled: true, disabledReason: null, updatedAt: now });
      await bumpKeyringVersion(manager);
      await appendToOutbox(manager, newEvent('slave_enabled', 'auth', { slaveId, data: { url: slave.url, was_disabled_for: slave.disabledReason } }, now));
      return 'enabled';
    });
  }

  /**
   * Admin: point a slave at another URL (checked by the caller under the outbound policy). Its keys,
   * its state and its deliveries stay; the next deliveries go to the new URL. `in_use` when another
   * slave has that URL.
   */
  async changeUrl(slaveId: number, url: string, now: Date): Promise<'changed' | 'unchanged' | 'in_use' | 'not_found'> {
    try {
      return await this.db.transaction(async (manager) => {
        const slave = await manager.createQueryBuilder(SlaveEntity, 's').where('s.id = :id', { id: slaveId }).setLock('pessimistic_write').getOne();
        if (!slave) return 'not_found' as const;
        if (slave.url === url) return 'unchanged' as const;
        const holder = await manager.getRepository(SlaveEntity).findOneBy({ url });
        if (holder) return 'in_use' as const;
        await manager.update(SlaveEntity, { id: slaveId }, { url, updatedAt: now });
        await bumpKeyringVersion(manager);
        await appendToOutbox(manager, newEvent('slave_updated', 'auth', { slaveId, data: { field: 'url', from: slave.url, to: url } }, now));
        return 'changed' as const;
      });
    } catch (err) {
      if ((err as { code?: string }).code === '23505') return 'in_use';
      throw err;
    }
  }

  /**
   * Admin: delete a slave (a typo, a site gone for good). Its row and keys go at once (its calls are
   * refused on the next request: keyring version); the propagator discards its pending deliveries;
   * `slave_deleted` keeps its URL in the audit with everything recorded before.
   */
  async delete(slaveId: number, now: Date): Promise<boolean> {
    return this.db.transaction(async (manager) => {
      // TypeORM answers a DELETE … RETURNING as [rows, affected].
      const result = (await manager.query(`DELETE FROM slaves WHERE id = $1 RETURNING url`, [slaveId])) as unknown[];
      const rows = (Array.isArray(result[0]) ? result[0] : result) as { url: string }[];
      if (!rows.length) return false;
      await bumpKeyringVersion(manager);
      await appendToOutbox(manager, newEvent('slave_deleted', 'auth', { slaveId, data: { url: rows[0].url } }, now));
      return true;
    });
  }

  /** Every enabled slave that has registered its own key, with that key unsealed. */
  async enabledWithKeys(): Promise<{ id: number; url: string; key: string }[]> {
    const slaves = await this.db
      .getRepository(SlaveEntity)
      .createQueryBuilder('s')
      .where('s.enabled AND s.slave_key_sealed IS NOT NULL')
      .orderBy('s.id', 'ASC')
      .getMany();
    return slaves.map((s) => ({ id: s.id, url: s.url, key: this.box.open(s.slaveKeySealed!, SLAVE_KEY_PURPOSE) }));
  }
}
