import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { AuditEventEntity } from '@switchboard/db';
import { DomainEvent, EventConsumer } from '@switchboard/events';
import { ADMIN_API_OPTIONS, AdminApiOptions } from './admin-token.guard';

export const AUDIT_GROUP = 'admin-audit';

/** Records every domain event of the stream in the audit table, once (deduped on the event id). */
@Injectable()
export class AuditRecorder implements OnApplicationBootstrap, OnApplicationShutdown {
  private consumer?: EventConsumer;

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(ADMIN_API_OPTIONS) private readonly options: AdminApiOptions,
  ) {}

  onApplicationBootstrap() {
    this.consumer = new EventConsumer({ redisUrl: this.options.redisUrl, group: AUDIT_GROUP, handle: (e) => this.record(e) });
    this.consumer.start();
  }

  async onApplicationShutdown() {
    await this.consumer?.stop();
  }

  async record(event: DomainEvent): Promise<void> {
    await this.db
      .createQueryBuilder()
      .insert()
      .into(AuditEventEntity)
      .values({
        eventId: event.id,
        type: event.type,
        occurredAt: new Date(event.occurredAt),
        source: event.source,
        slaveId: event.slaveId,
        memberId: event.memberId,
        details: (event.data ?? {}) as never,
      })
      .orIgnore()
      .execute();
  }
}
