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

/**
 * Every parameter name any v2 action reads. Only these travel from the gateway to auth: the rest
 * is ignored (spec D2), so junk parameters can neither bloat the internal call nor reach a log.
 */
export const IPS_PARAM_NAMES = [
  'do', 'key', 'url', 'id', 'idType', 'password', 'ourKey', 'name', 'email', 'pass_hash', 'pass_salt',
  'revalidateUrl', 'status', 'remove', 'remote', 'returnTo', 'slaveCall', 'state', 'fetchId',
] as const;

/** A JSON answer: `status` first, then the action's fields in protocol order. */
export type IpsAnswer = { status: IpsStatus } & Record<string, string | number | null>;

/**
 * The `do=` actions Switchboard serves (an allow-list, spec §1.7: IPS dispatched to any method).
 * Grows with each implemented action; anything else answers INVALID_ACTION.
 */
export const IPS_ACTIONS = [
  'verifySettings',
  'disableSlave',
  'fetchSalt',
  'login',
  'fetchId',
  'register',
  'validate',
  'delete',
  'ban',
  'merge',
  'checkEmail',
  'checkName',
  'changeEmail',
  'changePassword',
  'changeName',
] as const;
export type IpsAction = (typeof IPS_ACTIONS)[number];

/** The browser actions (spec §4): answered with redirects, not JSON. */
export const BROWSER_ACTIONS = ['crossLogin', 'logout'] as const;
export type BrowserAction = (typeof BROWSER_ACTIONS)[number];

export function isIpsAction(value: string | undefined): value is IpsAction {
  return value !== undefined && (IPS_ACTIONS as readonly string[]).includes(value);
}

export function isBrowserAction(value: string | undefined): value is BrowserAction {
  return value !== undefined && (BROWSER_ACTIONS as readonly string[]).includes(value);
}

/** What the auth service decides for the first hit of a crossLogin / logout (spec §4, D14). */
export interface ChainPlan {
  /** forbidden: the generic 403 page; straight: 303 to returnTo; chain: through `hops` first. */
  outcome: 'forbidden' | 'straight' | 'chain';
  /** crossLogin: log the browser into the master as `memberId`. */
  login: boolean;
  memberId: number | null;
  sessionEpoch: number | null;
  returnTo: string | null;
  /** Each hop: the slave URL and its parameters in order, all but `returnTo` (the gateway adds it). */
  hops: { url: string; params: [string, string][] }[];
  /** Why (for logs only; never shown to the browser). */
  reason: string;
}

export interface ChainRequest {
  action: BrowserAction;
  params: Record<string, string | null>;
  remoteAddress: string | null;
  requestId: string | null;
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

/** The paths IPS slaves are configured with (spec D2), all serving the same protocol. */
export const IPS_CONNECT_PATHS = [
  'ipsconnect',
  'applications/core/interface/ipsconnect/ipsconnect.php',
  'interface/ipsconnect/ipsconnect.php',
];
