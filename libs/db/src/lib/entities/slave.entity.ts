import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** A site of the network (an IPS Connect slave). Written only by the auth service. */
@Entity({ name: 'slaves' })
export class SlaveEntity {
  @PrimaryGeneratedColumn({ type: 'integer', primaryKeyConstraintName: 'pk_slaves' })
  id!: number;

  /** The slave's gateway URL exactly as it sent it in `verifySettings` (its identity). */
  @Column({ type: 'text', unique: true })
  url!: string;

  /**
   * The slave's own key (`ourKey`), sealed with SECRETS_KEY; needed to sign calls to it.
   * NULL while a slave created by an admin (with a per-slave master key) has not called
   * `verifySettings` yet.
   */
  @Column({ name: 'slave_key_sealed', type: 'text', nullable: true })
  slaveKeySealed!: string | null;

  /** A per-slave master key issued by an admin (spec D5), sealed; NULL when it uses the global key. */
  @Column({ name: 'master_key_sealed', type: 'text', nullable: true })
  masterKeySealed!: string | null;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  @Column({ name: 'disabled_reason', type: 'text', nullable: true })
  disabledReason!: string | null;

  @Column({ name: 'registered_at', type: 'timestamptz', default: () => 'now()' })
  registeredAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;

  @Column({ name: 'last_access_at', type: 'timestamptz', nullable: true })
  lastAccessAt!: Date | null;
}
