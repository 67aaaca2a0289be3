import { z } from 'zod';
import { instant, rowId } from './fields';
import { EVENT_TYPES, PROPAGATED_ACTIONS } from './vocabulary';

/**
 * What every other enabled slave must receive for a change: the IPS parameters after `do` and `key`,
 * in protocol order (the propagator adds `do`, the slave's key and `slaveCall=1`). Values named in
 * `sealed` are encrypted at rest (SecretBox purpose `outbox-param`), e.g. `pass_hash` (spec D13).
 * Lives only in the outbox row: the event stream never carries it.
 */
export const propagation = z
  .object({
    action: z.enum(PROPAGATED_ACTIONS),
    params: z.array(z.tuple([z.string(), z.string()])),
    sealed: z.array(z.string()),
  })
  .strict();
export type Propagation = z.infer<typeof propagation>;

/**
 * A domain event, as its writing service records it (outbox row or stream entry) and as the
 * propagator and the admin's audit recorder read it. `data` never carries secrets.
 */
export const domainEvent = z
  .object({
    id: z.uuid(),
    type: z.enum(EVENT_TYPES),
    occurredAt: instant,
    /** The service that recorded it. */
    source: z.string().min(1).max(50),
    /** The slave the change came from (excluded from propagation), or the slave concerned. */
    slaveId: rowId.nullable(),
    memberId: rowId.nullable(),
    data: z.record(z.string(), z.unknown()),
    /** Present on changes that slaves must receive (outbox only). */
    propagate: propagation.optional(),
  })
  .strict();
export type DomainEventMessage = z.infer<typeof domainEvent>;
