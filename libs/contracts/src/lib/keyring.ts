import { z } from 'zod';
import { contract } from './contract';
import { rowId, version } from './fields';

export const keyringSlave = z
  .object({
    id: rowId,
    url: z.string(),
    enabled: z.boolean(),
    /** Its own master key (spec D5), issued through the admin API; null when it has none. */
    masterKey: z.string().nullable(),
    /** The key it registered with verifySettings (`ourKey`), used to sign calls and hops to it. */
    slaveKey: z.string().nullable(),
  })
  .strict();
export type KeyringSlave = z.infer<typeof keyringSlave>;

/**
 * The key material of IPS Connect calls, as the auth service (its only issuer and store) hands it
 * to the processes that check calls. `version` is the `keyring_version` setting read in the same
 * snapshot: every change of a key, a slave's registration or the global key switch increases it in
 * its own transaction (docs/architecture.md, "Key material").
 */
export const keyringSnapshot = z
  .object({
    version,
    /** The global master key, or null when the operator switched it off (per-slave keys only). */
    global: z.string().nullable(),
    slaves: z.array(keyringSlave),
    /** The key of the digest stored instead of `pass_hash` (spec D13; hex): logins are checked where they arrive. */
    passPepper: z.string().regex(/^[0-9a-f]+$/, 'must be hex'),
  })
  .strict();
export type KeyringSnapshot = z.infer<typeof keyringSnapshot>;

/** `GET /internal/keyring`: the key material, for the gateway to keep per keyring version. */
export const keyringContract = contract({ name: 'auth.keyring', service: 'auth', method: 'GET', path: '/internal/keyring', request: z.undefined(), response: keyringSnapshot });
