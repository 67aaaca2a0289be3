import { randomUUID } from 'node:crypto';
import { EventType, Propagation, checkAgainst, domainEvent } from '@switchboard/contracts';

// Event types, propagated actions and the event's message are written once, in libs/contracts.
export { EVENT_TYPES, PROPAGATED_ACTIONS } from '@switchboard/contracts';
export type { EventType, PropagatedAction, Propagation } from '@switchboard/contracts';

export const SEALED_PARAM_PURPOSE = 'outbox-param';

export interface DomainEvent<T extends Record<string, unknown> = Record<string, unknown>> {
  id: string;
  type: EventType;
  occurredAt: string;
  /** The service that recorded it. */
  source: string;
  /** The slave the change came from (excluded from propagation), or the slave concerned. */
  slaveId: number | null;
  memberId: number | null;
  data: T;
  /** Present on changes that slaves must receive (outbox only). */
  propagate?: Propagation;
}

export function newEvent<T extends Record<string, unknown>>(
  type: EventType,
  source: string,
  fields: { slaveId?: number | null; memberId?: number | null; data: T; propagate?: Propagation },
  now = new Date(),
): DomainEvent<T> {
  const event: DomainEvent<T> = {
    id: randomUUID(),
    type,
    occurredAt: now.toISOString(),
    source,
    slaveId: fields.slaveId ?? null,
    memberId: fields.memberId ?? null,
    data: fields.data,
    ...(fields.propagate ? { propagate: fields.propagate } : {}),
  };
  checkEvent(event);
  return event;
}

/**
 * Checks an event against its message (libs/contracts `domainEvent`) before it is written: a bug
 * that would write an event its readers refuse fails here, in the writing service.
 */
export function checkEvent(event: DomainEvent): void {
  checkAgainst(domainEvent, `event ${event.type}`, 'message', event);
}

/**
 * The services that write domain events to Redis. Each writes only its own stream (one writing
 * service per Redis key family): auth and the propagator relay their outbox tables, the gateway
 * emits events that change no table (`authn_key_fail`). Which stream a writer uses comes from how
 * its app wires it (OutboxPublisherModule / StreamEmitterModule), not from the event's `source`.
 */
export const EVENT_WRITERS = ['auth', 'propagator', 'gateway'] as const;
export type EventWriter = (typeof EVENT_WRITERS)[number];

/** The Redis stream `writer` publishes its domain events to: `switchboard:events:<writer>`. */
export function eventStream(writer: EventWriter): string {
  if (!(EVENT_WRITERS as readonly string[]).includes(writer)) throw new Error(`no event stream for service ${JSON.stringify(writer)}`);
  return `switchboard:events:${writer}`;
}

/** Every writer's stream: what the event consumers read. */
export const EVENT_STREAMS: readonly string[] = EVENT_WRITERS.map(eventStream);

/**
 * The single stream all three services wrote before each got its own. Nothing writes it any more;
 * a consumer drains what its group has not read of it yet, once at start (docs/propagation.md).
 */
export const LEGACY_EVENT_STREAM = 'switchboard:events';

/** Approximate cap on each stream's length; consumers read far faster than this fills. */
export const EVENT_STREAM_MAXLEN = 100_000;
/** PostgreSQL NOTIFY channel raised in every transaction that writes to the outbox. */
export const OUTBOX_CHANNEL = 'switchboard_outbox';
