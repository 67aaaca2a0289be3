import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

/**
 * The propagator's own copy of every outbox event it has relayed (written only by the propagator):
 * its progress through the outbox (a row per event, with or without deliveries) and the change each
 * delivery sends (`propagate`, sealed parameters sealed), erased once every delivery of it is done.
 */
@Entity({ name: 'propagation_changes' })
@Unique('uq_propagation_changes_event', ['eventId'])
export class PropagationChangeEntity {
  /** The outbox id: commit order of the change. */
  @PrimaryColumn({ type: 'bigint', primaryKeyConstraintName: 'pk_propagation_changes' })
  seq!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  /** `{action, params, sealed}` as the outbox carried it; null for an event that propagates nothing. */
  @Column({ type: 'jsonb', nullable: true })
  propagate!: Record<string, unknown> | null;

  @Column({ name: 'relayed_at', type: 'timestamptz', default: () => 'now()' })
  relayedAt!: Date;
}

/**
 * The propagator's outbox: audit events it originates (`delivery_dead`, `delivery_retried`),
 * written in the transaction of the change and published by the propagator to the event stream.
 */
@Entity({ name: 'propagator_outbox' })
@Index('ix_propagator_outbox_unpublished', ['id'], { where: 'published_at IS NULL' })
@Unique('uq_propagator_outbox_event', ['eventId'])
export class PropagatorOutboxEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'pk_propagator_outbox' })
  id!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ type: 'text' })
  type!: string;

  @Column({ type: 'jsonb' })
  payload!: Record<string, unknown>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'published_at', type: 'timestamptz', nullable: true })
  publishedAt!: Date | null;
}

/** How deliveries to a slave fare (written only by the propagator; the slave row is auth's). */
@Entity({ name: 'slave_delivery_health' })
export class SlaveDeliveryHealthEntity {
  @PrimaryColumn({ name: 'slave_id', type: 'integer', primaryKeyConstraintName: 'pk_slave_delivery_health' })
  slaveId!: number;

  /** Last delivery that succeeded, and since when every delivery has failed (NULL: not failing). */
  @Column({ name: 'last_success_at', type: 'timestamptz', nullable: true })
  lastSuccessAt!: Date | null;

  @Column({ name: 'failing_since', type: 'timestamptz', nullable: true })
  failingSince!: Date | null;
}
