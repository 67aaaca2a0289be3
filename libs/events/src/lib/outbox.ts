import type { EntityManager } from 'typeorm';
import { OutboxEventEntity } from '@switchboard/db';
import { DomainEvent, OUTBOX_CHANNEL } from './domain-event';

/**
 * Records `event` in the outbox inside the caller's transaction, so the event exists if and only if
 * the change committed. The NOTIFY is delivered at commit and wakes the relays at once.
 */
export async function appendToOutbox(manager: EntityManager, event: DomainEvent): Promise<void> {
  const { id, type, ...payload } = event;
  await manager.insert(OutboxEventEntity, { eventId: id, type, payload: payload as never });
  await manager.query('SELECT pg_notify($1, $2)', [OUTBOX_CHANNEL, type]);
}

/** The event as the stream publishes it: without its propagation parameters (no secrets). */
export function eventFromOutbox(row: Pick<OutboxEventEntity, 'eventId' | 'type' | 'payload'>): DomainEvent {
  const { propagate: _omitted, ...rest } = row.payload as Omit<DomainEvent, 'id' | 'type'>;
  return { id: row.eventId, type: row.type, ...rest } as DomainEvent;
}
