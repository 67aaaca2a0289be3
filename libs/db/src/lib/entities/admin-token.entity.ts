import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';

/**
 * Named admin tokens (issue 12), written only by the admin service: the bearer tokens operators
 * create and revoke through the admin API, besides the bootstrap ADMIN_TOKEN. Only the SHA-256
 * digest of a token is kept (the token, 256 random bits, is shown once at creation). A revoked row is
 * kept for the audit log's sake and refused at once.
 */
@Entity({ name: 'admin_tokens' })
@Index('ux_admin_tokens_live_name', ['name'], { unique: true, where: 'revoked_at IS NULL' })
export class AdminTokenEntity {
  @PrimaryGeneratedColumn({ type: 'integer', primaryKeyConstraintName: 'pk_admin_tokens' })
  id!: number;

  @Column({ type: 'text' })
  name!: string;

  /** Hex SHA-256 of the token. */
  @Index('ux_admin_tokens_digest', { unique: true })
  @Column({ type: 'text' })
  digest!: string;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  /** The name of the token that created it (`bootstrap` for ADMIN_TOKEN). */
  @Column({ name: 'created_by', type: 'text' })
  createdBy!: string;

  /** Last use, written at most once a minute per token and process. */
  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;

  @Column({ name: 'revoked_at', type: 'timestamptz', nullable: true })
  revokedAt!: Date | null;

  @Column({ name: 'revoked_by', type: 'text', nullable: true })
  revokedBy!: string | null;
}
