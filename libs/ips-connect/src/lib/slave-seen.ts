import { Inject, Injectable, Logger } from '@nestjs/common';
import type IORedis from 'ioredis';
import { REDIS, SLAVE_SEEN_KEY } from '@switchboard/redis';

/**
 * Spec D4's "last access" of a slave, as the gateway sees it: the Redis hash `switchboard:slave-seen`
 * (slave id → epoch ms), written only by the gateway, at most once a minute per slave and process
 * (a read action never writes to PostgreSQL). The admin's slave list shows the later of this and
 * the `slaves.last_access_at` that auth writes on the actions it runs.
 */
const EVERY_MS = 60_000;

@Injectable()
export class SlaveSeen {
  private readonly logger = new Logger('SlaveSeen');
  private readonly written = new Map<number, number>();

  constructor(@Inject(REDIS) private readonly redis: IORedis) {}

  touch(slaveId: number, now: number): void {
    const last = this.written.get(slaveId);
    if (last !== undefined && now - last < EVERY_MS) return;
    this.written.set(slaveId, now);
    this.redis.hset(SLAVE_SEEN_KEY, String(slaveId), String(now)).catch((err: Error) => {
      this.written.delete(slaveId);
      this.logger.warn(`last access of slave ${slaveId} not recorded: ${err.message}`);
    });
  }
}
