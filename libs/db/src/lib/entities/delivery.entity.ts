import { Column, Entity, Index, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** Where a delivery stands. `waiting`, `ready` and `parked` are pending; the others are final. */
export const DELIVERY_STATUSES = ['waiting', 'ready', 'parked', 'delivered', 'dead', 'superseded', 'discarded'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/**
 * One change (outbox event) to one slave (spec D15). `seq` is the outbox id: deliveries to one
 * (slave, member) go out in `seq` order, a later one `waiting` until the earlier one is final.
 */
@Entity({ name: 'deliveries' })
@Unique('uq_deliveries_event_slave', ['eventId', 'slaveId'])
@Index('ix_deliveries_queue', ['slaveId', 'memberId', 'seq'], { where: "status IN ('waiting', 'ready', 'parked')" })
@Index('ix_deliveries_status', ['status', 'id'])
@Index('ix_deliveries_waiting', ['id'], { where: "status = 'waiting'" })
@Index('ix_deliveries_member', ['memberId'])
@Index('ix_deliveries_blocking', ['blockingMemberId', 'slaveId'], { where: 'blocking_member_id IS NOT NULL' })
export class DeliveryEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'pk_deliveries' })
  id!: string;

  @Column({ name: 'event_id', type: 'uuid' })
  eventId!: string;

  @Column({ type: 'bigint' })
  seq!: string;

  @Column({ name: 'slave_id', type: 'integer' })
  slaveId!: number;

  @Column({ name: 'member_id', type: 'integer' })
  memberId!: number;

  /** `merge`: the removed member, whose line must be empty before the merge goes out. */
  @Column({ name: 'blocking_member_id', type: 'integer', nullable: true })
  blockingMemberId!: number | null;

  /** The IPS action sent (`register`, `changeEmail`, …). */
  @Column({ type: 'text' })
  action!: string;

  /** The member fields this change sets at the slave; an older change is superseded by a newer one. */
  @Column({ type: 'text', array: true })
  fields!: string[];

  @Column({ type: 'text' })
  status!: DeliveryStatus;

  @Column({ type: 'integer', default: 0 })
  attempts!: number;

  /** Bumped when a new job series starts (admin retry, job lost by Redis): names the live job. */
  @Column({ type: 'integer', default: 0 })
  series!: number;

  /**
   * The batch job that carries this delivery's first attempt of a series (set when it becomes
   * `ready`); null once it is carried by its own retry job, named after `series`.
   */
  @Column({ name: 'job_id', type: 'text', nullable: true })
  jobId!: string | null;

  @Column({ name: 'next_attempt_at', type: 'timestamptz', nullable: true })
  nextAttemptAt!: Date | null;

  @Column({ name: 'last_error', type: 'text', nullable: true })
  lastError!: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'finished_at', type: 'timestamptz', nullable: true })
  finishedAt!: Date | null;
}
