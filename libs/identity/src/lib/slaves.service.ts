import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@switchboard/crypto';
import { SlaveEntity } from '@switchboard/db';
import { appendToOutbox, newEvent } from '@switchboard/events';

export const SLAVE_KEY_PURPOSE = 'slave-key';

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
        const keyChanged = this.box.open(existing.slaveKeySealed, SLAVE_KEY_PURPOSE) !== slaveKey;
        await manager.update(
          SlaveEntity,
          { id: existing.id },
          { slaveKeySealed: sealed, enabled: true, disabledReason: null, updatedAt: now, lastAccessAt: now },
        );
        registration = { slaveId: existing.id, created: false, keyChanged, reenabled: !existing.enabled };
      }
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

  /** The slave's own key, unsealed (to sign calls to it). */
  async slaveKey(slaveId: number): Promise<string | null> {
    const slave = await this.db.getRepository(SlaveEntity).findOneBy({ id: slaveId });
    return slave ? this.box.open(slave.slaveKeySealed, SLAVE_KEY_PURPOSE) : null;
  }
}
