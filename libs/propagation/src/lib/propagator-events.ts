import type { EntityManager } from 'typeorm';
import { PROPAGATOR_OUTBOX, appendToOutbox, newEvent } from '@switchboard/events';

/** Audit events the propagator originates, in its own outbox (published by itself). */
export const PROPAGATION_OUTBOX_EVENT = { dead: 'delivery_dead', retried: 'delivery_retried', discarded: 'delivery_discarded' } as const;

/** Records a propagator audit event in the propagator's outbox, inside the caller's transaction. */
export function propagatorEvent(
  manager: EntityManager,
  type: (typeof PROPAGATION_OUTBOX_EVENT)[keyof typeof PROPAGATION_OUTBOX_EVENT],
  fields: { slaveId?: number | null; memberId?: number | null; data: Record<string, unknown> },
  now: Date,
  source = 'propagator',
): Promise<void> {
  return appendToOutbox(manager, newEvent(type, source, fields, now), PROPAGATOR_OUTBOX);
}
