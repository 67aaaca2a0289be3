import { randomUUID } from 'node:crypto';

/**
 * Domain event types, in the OWASP logging vocabulary where one exists. Event data never carries
 * secrets (keys, hashes, salts, tokens); what a slave must receive travels in the outbox payload's
 * sealed fields (issue 4), never in the event stream.
 */
export const EVENT_TYPES = [
  'slave_registered',
  'slave_disabled',
  'slave_created',
  /** A slave URL refused by the outbound policy at registration (verifySettings, admin): rule and reason. */
  'slave_url_refused',
  'settings_changed',
  'authn_login_success',
  'authn_login_fail',
  'authn_login_lock',
  'authn_login_unlock',
  'authn_key_fail',
  'authn_password_change',
  'user_created',
  'user_updated',
  'user_validated',
  'user_banned',
  'user_unbanned',
  'user_merged',
  'user_deleted',
  'delivery_dead',
  'delivery_retried',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The IPS actions a master propagates to its slaves (spec §2, "→ slaves"). */
export type PropagatedAction =
  | 'register'
  | 'validate'
  | 'delete'
  | 'ban'
  | 'merge'
  | 'changeEmail'
  | 'changePassword'
  | 'changeName';

/**
 * What every other enabled slave must receive for a change: the IPS parameters after `do` and `key`,
 * in protocol order (the propagator adds `do`, the slave's key and `slaveCall=1`). Values named in
 * `sealed` are encrypted at rest (SecretBox purpose `outbox-param`), e.g. `pass_hash` (spec D13).
 * Lives only in the outbox row: the event stream never carries it.
 */
export interface Propagation {
  action: PropagatedAction;
  params: [name: string, value: string][];
  sealed: string[];
}

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
  return {
    id: randomUUID(),
    type,
    occurredAt: now.toISOString(),
    source,
    slaveId: fields.slaveId ?? null,
    memberId: fields.memberId ?? null,
    data: fields.data,
    ...(fields.propagate ? { propagate: fields.propagate } : {}),
  };
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
