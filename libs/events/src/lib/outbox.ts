import type { EntityManager } from 'typeorm';
import { DomainEvent, OUTBOX_CHANNEL } from './domain-event';

/**
 * An outbox table: events written in the transaction of the change they describe, then published
 * to the event stream by the service that writes the table (each outbox has exactly one writer).
 */
export interface Outbox {
  table: 'outbox_events' | 'propagator_outbox';
  /** NOTIFY channel raised at commit. */
  channel: string;
  /** Advisory lock of its publisher (one at a time per outbox). */
  publishLock: number;
}

/**
 * Member and slave changes, with the IPS parameters each slave will receive (`propagate`); written
 * by the service that owns members and slaves, read (never written) by the propagator's relay.
 */
export const CHANGE_OUTBOX: Outbox = { table: 'outbox_events', channel: OUTBOX_CHANNEL, publishLock: 7_106_362_849 };

/** Audit events the propagator originates (delivery_dead, delivery_retried); written only by it. */
export const PROPAGATOR_OUTBOX: Outbox = { table: 'propagator_outbox', channel: 'switchboard_propagator_outbox', publishLock: 7_106_362_850 };

/** Every outbox whose events reach the event stream (the audit recorder sweeps each). */
export const OUTBOXES: readonly Outbox[] = [CHANGE_OUTBOX, PROPAGATOR_OUTBOX];

/**
 * Records `event` in an outbox inside the caller's transaction, so the event exists if and only if
 * the change committed. The NOTIFY is delivered at commit and wakes the relays at once.
 */
export async function appendToOutbox(manager: EntityManager, event: DomainEvent, outbox: Outbox = CHANGE_OUTBOX): Promise<void> {
  const { id, type, ...payload } = event;
  // One round trip: the row and its NOTIFY (delivered at commit) in one statement.
  await manager.query(
    `WITH e AS (INSERT INTO ${outbox.table} (event_id, type, payload) VALUES ($1, $2, $3) RETURNING type) SELECT pg_notify($4, e.type) FROM e`,
    [id, type, JSON.stringify(payload), outbox.channel],
  );
}

/** The event as the stream publishes it: without its propagation parameters (no secrets). */
export function eventFromOutbox(row: { eventId: string; type: string; payload: Record<string, unknown> }): DomainEvent {
  const { propagate: _omitted, ...rest } = row.payload as Omit<DomainEvent, 'id' | 'type'>;
  return { id: row.eventId, type: row.type, ...rest } as DomainEvent;
}
