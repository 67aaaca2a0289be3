import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/** One try of a delivery: when, what the slave answered (HTTP code, IPS status) or what failed. */
@Entity({ name: 'delivery_attempts' })
@Index('ix_delivery_attempts_delivery', ['deliveryId', 'id'])
export class DeliveryAttemptEntity {
  @PrimaryGeneratedColumn({ type: 'bigint', primaryKeyConstraintName: 'pk_delivery_attempts' })
  id!: string;

  @Column({ name: 'delivery_id', type: 'bigint' })
  deliveryId!: string;

  @Column({ name: 'attempted_at', type: 'timestamptz' })
  attemptedAt!: Date;

  @Column({ name: 'duration_ms', type: 'integer' })
  durationMs!: number;

  @Column({ name: 'http_status', type: 'integer', nullable: true })
  httpStatus!: number | null;

  @Column({ name: 'ips_status', type: 'text', nullable: true })
  ipsStatus!: string | null;

  @Column({ type: 'text', nullable: true })
  error!: string | null;

  /** delivered, disabled, retry, dead. */
  @Column({ type: 'text' })
  outcome!: string;
}
