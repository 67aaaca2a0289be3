import { Column, Entity, Index, PrimaryColumn, PrimaryGeneratedColumn, Unique } from 'typeorm';

/** An application key of the signed API (A4). The secret is sealed: md5 signatures need it back. */
@Entity({ name: 'app_keys' })
export class AppKeyEntity {
  @PrimaryColumn({ name: 'api_key', type: 'text', primaryKeyConstraintName: 'pk_app_keys' })
  apiKey!: string;

  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed!: string;

  @Column({ type: 'text' })
  title!: string;

  @Column({ type: 'text', default: '' })
  description!: string;

  /** `web` (callback URL) or `desktop`. */
  @Column({ type: 'text' })
  type!: string;

  @Column({ name: 'callback_url', type: 'text', nullable: true })
  callbackUrl!: string | null;

  @Column({ name: 'always_signed', type: 'boolean', default: false })
  alwaysSigned!: boolean;

  @Column({ name: 'accept_order_a', type: 'boolean', default: true })
  acceptOrderA!: boolean;

  /** `md5` or `hmac-sha256` (A3). */
  @Column({ name: 'signature_mode', type: 'text', default: 'md5' })
  signatureMode!: string;

  @Column({ type: 'boolean', default: true })
  enabled!: boolean;

  /** Client networks allowed to use the key (CIDR); empty = any (111). */
  @Column({ name: 'allowed_networks', type: 'text', array: true, default: () => "'{}'" })
  allowedNetworks!: string[];

  /** Calls per day (112); NULL = unlimited. */
  @Column({ name: 'daily_quota', type: 'integer', nullable: true })
  dailyQuota!: number | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

/** A frob (A5): stored as its SHA-256 digest, single use, 10 minutes, bound to its key. */
@Entity({ name: 'app_frobs' })
@Index('ix_app_frobs_expires', ['expiresAt'])
export class AppFrobEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_app_frobs' })
  digest!: string;

  @Column({ name: 'api_key', type: 'text' })
  apiKey!: string;

  /** Set when a member approved it on the consent page. */
  @Column({ name: 'member_id', type: 'integer', nullable: true })
  memberId!: number | null;

  @Column({ type: 'jsonb', nullable: true })
  permissions!: Record<string, string> | null;

  @Column({ name: 'expires_at', type: 'timestamptz' })
  expiresAt!: Date;

  @Column({ name: 'used_at', type: 'timestamptz', nullable: true })
  usedAt!: Date | null;
}

/** What a member granted an application (one per member and key, A5). */
@Entity({ name: 'app_grants' })
@Unique('uq_app_grants_member_key', ['memberId', 'apiKey'])
@Index('ix_app_grants_key', ['apiKey'])
export class AppGrantEntity {
  @PrimaryGeneratedColumn({ type: 'integer', primaryKeyConstraintName: 'pk_app_grants' })
  id!: number;

  @Column({ name: 'member_id', type: 'integer' })
  memberId!: number;

  @Column({ name: 'api_key', type: 'text' })
  apiKey!: string;

  @Column({ type: 'jsonb' })
  permissions!: Record<string, string>;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt!: Date;
}

/** An auth_token (A5): its SHA-256 digest, bound to a grant (so to a member and a key). */
@Entity({ name: 'app_tokens' })
@Index('ix_app_tokens_grant', ['grantId'])
export class AppTokenEntity {
  @PrimaryColumn({ type: 'text', primaryKeyConstraintName: 'pk_app_tokens' })
  digest!: string;

  @Column({ name: 'grant_id', type: 'integer' })
  grantId!: number;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt!: Date;

  @Column({ name: 'last_used_at', type: 'timestamptz', nullable: true })
  lastUsedAt!: Date | null;
}
