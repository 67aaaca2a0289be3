/**
 * The purposes SecretBox seals under, one constant each: a value sealed for one purpose cannot be
 * opened as another (the purpose is bound into the authenticated data).
 */
/**
 * A slave's own key (`ourKey` of verifySettings, `slaves.slave_key_sealed`): sealed by auth at
 * verifySettings, opened by auth (keyring for the gateway's chains) and the propagator (signing deliveries).
 */
export const SLAVE_KEY_PURPOSE = 'slave-key';
/** A per-slave master key issued through the admin API (spec D5). */
export const MASTER_KEY_PURPOSE = 'slave-master-key';
