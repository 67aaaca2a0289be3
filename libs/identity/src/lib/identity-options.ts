export const IDENTITY_OPTIONS = Symbol('IDENTITY_OPTIONS');
export interface IdentityOptions {
  masterKey: string;
  publicUrl: string;
  /** crossLogin binding window (D14); 0 turns the binding off. */
  recentAuthMs: number;
  /** `SLAVE_URL_ALLOW_PRIVATE`: slave URLs may point at loopback/private addresses (default false). */
  slaveUrlAllowPrivate?: boolean;
}
