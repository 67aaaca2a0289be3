import { randomUUID } from 'node:crypto';

/**
 * Domain event types, in the OWASP logging vocabulary where one exists. Event data never carries
 * secrets (keys, hashes, salts, tokens); what a slave must receive travels in the outbox payload's
 * sealed fields (issue 4), never in the event stream.
 */
export const EVENT_TYPES = ['slave_registered'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export interface DomainEvent<T extends Record<string, unknown> = Record<string, unknown>> {
  id: string;
  type: EventType;
  occurredAt: string;
  /** The service that recorded it. */
  source: string;
  slaveId: number | null;
  memberId: number | null;
  data: T;
}

export function newEvent<T extends Record<string, unknown>>(
  type: EventType,
  source: string,
  fields: { slaveId?: number | null; memberId?: number | null; data: T },
  now = new Date(),
): DomainEvent<T> {
  return {
    id: randomUUID(),
    type,
    occurredAt: now.toISOString(),
    source,
    slaveId: fields.slaveId ?? null,
    memberId: fields.memberId ?? null,
    data: fields.data,
  };
}

/** The Redis stream every service publishes domain events to (relayed from the outbox). */
export const EVENT_STREAM = 'switchboard:events';
/** Approximate cap on the stream's length; consumers read far faster than this fills. */
export const EVENT_STREAM_MAXLEN = 100_000;
/** PostgreSQL NOTIFY channel raised in every transaction that writes to the outbox. */
export const OUTBOX_CHANNEL = 'switchboard_outbox';
