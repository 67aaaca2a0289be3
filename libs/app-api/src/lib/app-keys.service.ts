import { randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { SecretBox } from '@switchboard/crypto';
import { AppKeyEntity, KEYRING_VERSION_SQL, bumpKeyringVersion } from '@switchboard/db';
import type { AppKeysSnapshot } from './api-call';

export const APP_SECRET_PURPOSE = 'app-secret';

/** An api_key as issued (32 lowercase hex); anything else names no key. */
export const API_KEY_FORMAT = /^[0-9a-f]{32}$/;
import type { AppView, CreateAppCommand, PatchAppCommand } from '@switchboard/contracts';
// The admin commands on keys are written once, in libs/contracts (checked by admin and by auth).
export { createAppCommand as createAppSchema, patchAppCommand as patchAppSchema } from '@switchboard/contracts';

export interface AppKey extends Omit<AppKeyEntity, 'secretSealed'> {
  secret: string;
}

/** The admin view of a key (the contract's `appView`; the entity's text columns hold its enums). */
export function appView(k: AppKeyEntity): AppView {
  return {
    api_key: k.apiKey,
    title: k.title,
    description: k.description,
    type: k.type as AppView['type'],
    callback_url: k.callbackUrl,
    always_signed: k.alwaysSigned,
    accept_order_a: k.acceptOrderA,
    signature_mode: k.signatureMode as AppView['signature_mode'],
    enabled: k.enabled,
    allowed_networks: k.allowedNetworks,
    daily_quota: k.dailyQuota,
    created_at: k.createdAt.toISOString(),
  };
}

/** Application keys (A4): owned by the auth service; secrets sealed, shown at creation and rotation only. */
@Injectable()
export class AppKeysService {

  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(SecretBox) private readonly box: SecretBox,
  ) {}

  private newSecret(): string {
    return randomBytes(16).toString('hex');
  }

  async create(input: CreateAppCommand): Promise<{ entity: AppKeyEntity; secret: string }> {
    const secret = this.newSecret();
    const entity = this.db.getRepository(AppKeyEntity).create({
      apiKey: randomBytes(16).toString('hex'),
      secretSealed: this.box.seal(secret, APP_SECRET_PURPOSE),
      title: input.title,
      description: input.description,
      type: input.type,
      callbackUrl: input.callback_url ?? null,
    });
    const created = await this.db.transaction(async (m) => {
      await m.getRepository(AppKeyEntity).insert(entity);
      await bumpKeyringVersion(m);
      return (await m.getRepository(AppKeyEntity).findOneBy({ apiKey: entity.apiKey }))!;
    });
    return { entity: created, secret };
  }

  list(): Promise<AppKeyEntity[]> {
    return this.db.getRepository(AppKeyEntity).find({ order: { createdAt: 'ASC' } });
  }

  async patch(apiKey: string, input: PatchAppCommand): Promise<AppKeyEntity | null> {
    if (!API_KEY_FORMAT.test(apiKey)) return null;
    return this.db.transaction(async (m) => {
      const repo = m.getRepository(AppKeyEntity);
      const current = await repo.findOneBy({ apiKey });
      if (!current) return null;
      await repo.update(
        { apiKey },
        {
          ...(input.title !== undefined && { title: input.title }),
          ...(input.description !== undefined && { description: input.description }),
          ...(input.callback_url !== undefined && { callbackUrl: input.callback_url }),
          ...(input.always_signed !== undefined && { alwaysSigned: input.always_signed }),
          ...(input.accept_order_a !== undefined && { acceptOrderA: input.accept_order_a }),
          ...(input.signature_mode !== undefined && { signatureMode: input.signature_mode }),
          ...(input.enabled !== undefined && { enabled: input.enabled }),
          ...(input.allowed_networks !== undefined && { allowedNetworks: input.allowed_networks }),
          ...(input.daily_quota !== undefined && { dailyQuota: input.daily_quota }),
          updatedAt: new Date(),
        },
      );
      // The gateway holds the keys per keyring version: it sees this change on its next call.
      await bumpKeyringVersion(m);
      return repo.findOneBy({ apiKey });
    });
  }

  async rotate(apiKey: string): Promise<string | null> {
    if (!API_KEY_FORMAT.test(apiKey)) return null;
    const secret = this.newSecret();
    return this.db.transaction(async (m) => {
      const result = await m.getRepository(AppKeyEntity).update({ apiKey }, { secretSealed: this.box.seal(secret, APP_SECRET_PURPOSE), updatedAt: new Date() });
      if (!result.affected) return null;
      await bumpKeyringVersion(m);
      return secret;
    });
  }

  /** Deletes the key with every grant and token of it. */
  async remove(apiKey: string): Promise<boolean> {
    if (!API_KEY_FORMAT.test(apiKey)) return false;
    return this.db.transaction(async (m) => {
      await m.query(`DELETE FROM app_tokens WHERE grant_id IN (SELECT id FROM app_grants WHERE api_key = $1)`, [apiKey]);
      await m.query(`DELETE FROM app_grants WHERE api_key = $1`, [apiKey]);
      await m.query(`DELETE FROM app_frobs WHERE api_key = $1`, [apiKey]);
      const r = await m.getRepository(AppKeyEntity).delete({ apiKey });
      if (!r.affected) return false;
      await bumpKeyringVersion(m);
      return true;
    });
  }

  /**
   * Every key, secrets unsealed, and the keyring version they belong to, read in one snapshot
   * (REPEATABLE READ): what the gateway keeps per version (`GET /internal/app-keys`).
   */
  async snapshot(): Promise<AppKeysSnapshot> {
    const runner = this.db.createQueryRunner();
    await runner.connect();
    try {
      await runner.startTransaction('REPEATABLE READ');
      const [{ v }] = (await runner.query(KEYRING_VERSION_SQL)) as { v: number }[];
      const rows = await runner.manager.getRepository(AppKeyEntity).find({ order: { apiKey: 'ASC' } });
      await runner.commitTransaction();
      return {
        version: v,
        keys: rows.map((k) => ({
          apiKey: k.apiKey,
          secret: this.box.open(k.secretSealed, APP_SECRET_PURPOSE),
          enabled: k.enabled,
          signatureMode: k.signatureMode as 'md5' | 'hmac-sha256',
          acceptOrderA: k.acceptOrderA,
          alwaysSigned: k.alwaysSigned,
          allowedNetworks: k.allowedNetworks,
          dailyQuota: k.dailyQuota,
        })),
      };
    } catch (err) {
      if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
      throw err;
    } finally {
      await runner.release();
    }
  }

  /**
   * The key with its secret unsealed, or null, read now (the consent page and the methods auth
   * executes): a key disabled, rotated or deleted is refused at once.
   */
  async get(apiKey: string): Promise<AppKey | null> {
    if (!API_KEY_FORMAT.test(apiKey)) return null;
    const entity = await this.db.getRepository(AppKeyEntity).findOneBy({ apiKey });
    const key = entity ? (({ secretSealed, ...rest }) => ({ ...rest, secret: this.box.open(secretSealed, APP_SECRET_PURPOSE) }))(entity) : null;
    return key;
  }
}
