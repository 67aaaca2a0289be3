/** Every status the v2 protocol can answer in JSON (spec §1.1), plus ours (spec D12, gateway). */
export type IpsStatus =
  | 'SUCCESS'
  | 'INVALID_ACTION'
  | 'DISABLED'
  | 'BAD_KEY'
  | 'REQUEST_MISSING_DATA'
  | 'ACCOUNT_NOT_FOUND'
  | 'WRONG_AUTH'
  | 'EMAIL_IN_USE'
  | 'USERNAME_IN_USE'
  | 'FAILURE'
  | 'ACCOUNT_LOCKED'
  /** Ours: the gateway could not reach the auth service (HTTP 503, see docs/ips-connect.md). */
  | 'SERVICE_UNAVAILABLE';

/** A JSON answer: `status` first, then the action's fields in protocol order. */
export type IpsAnswer = { status: IpsStatus } & Record<string, string | number | null>;

/**
 * The `do=` actions Switchboard serves (an allow-list, spec §1.7: IPS dispatched to any method).
 * Grows with each implemented action; anything else answers INVALID_ACTION.
 */
export const IPS_ACTIONS = ['verifySettings'] as const;
export type IpsAction = (typeof IPS_ACTIONS)[number];

export function isIpsAction(value: string | undefined): value is IpsAction {
  return value !== undefined && (IPS_ACTIONS as readonly string[]).includes(value);
}

/** The request as the gateway hands it to the auth service. */
export interface IpsActionRequest {
  action: IpsAction;
  /** Decoded parameters; `null` marks an array-valued (unusable) parameter. */
  params: Record<string, string | null>;
  /** Client address as the gateway saw it (per-caller limits, audit). */
  remoteAddress: string | null;
  requestId: string | null;
}
