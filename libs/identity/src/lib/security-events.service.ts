import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { EventType, appendToOutbox, newEvent } from '@switchboard/events';

/** Records a security event that changes nothing else (a refused key, a refused login…). */
@Injectable()
export class SecurityEventsService {
  constructor(@InjectDataSource() private readonly db: DataSource) {}

  async record(type: EventType, fields: { slaveId?: number | null; memberId?: number | null; data: Record<string, unknown> }, now: Date): Promise<void> {
    await this.db.transaction((manager) => appendToOutbox(manager, newEvent(type, 'auth', fields, now)));
  }
}
