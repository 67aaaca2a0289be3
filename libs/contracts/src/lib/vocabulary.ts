/**
 * The names that travel between our services and that the receiving side checks: IPS Connect
 * actions and statuses, the application API methods auth executes, domain event types. Each list
 * is written here once; the protocol libraries re-export them.
 */

/** Every status the v2 protocol can answer in JSON (spec §1.1), plus ours (spec D12, gateway). */
export const IPS_STATUSES = [
  'SUCCESS',
  'INVALID_ACTION',
  'DISABLED',
  'BAD_KEY',
  'REQUEST_MISSING_DATA',
  'ACCOUNT_NOT_FOUND',
  'WRONG_AUTH',
  'EMAIL_IN_USE',
  'USERNAME_IN_USE',
  'FAILURE',
  'ACCOUNT_LOCKED',
  /** Ours: the gateway could not reach the auth service (HTTP 503, see docs/ips-connect.md). */
  'SERVICE_UNAVAILABLE',
] as const;
export type IpsStatus = (typeof IPS_STATUSES)[number];

/**
 * Every parameter name any v2 action reads. Only these travel from the gateway to auth: the rest
 * is ignored (spec D2), so junk parameters can neither bloat the internal call nor reach a log.
 */
export const IPS_PARAM_NAMES = [
  'do', 'key', 'url', 'id', 'idType', 'password', 'ourKey', 'name', 'email', 'pass_hash', 'pass_salt',
  'revalidateUrl', 'status', 'remove', 'remote', 'returnTo', 'slaveCall', 'state', 'fetchId',
] as const;

/**
 * The `do=` actions Switchboard serves (an allow-list, spec §1.7: IPS dispatched to any method).
 * Anything else answers INVALID_ACTION.
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

/**
 * The application API methods that change what the auth service owns (frobs, grants, tokens,
 * members): the gateway checks the call (key, limits, signature, token, permission) and auth
 * executes it.
 */
export const EXECUTED_IN_AUTH_METHODS = ['auth.getFrob', 'auth.getToken', 'auth.revokeToken', 'account.setName', 'account.setEmail'] as const;

/**
 * Domain event types, in the OWASP logging vocabulary where one exists. Event data never carries
 * secrets (keys, hashes, salts, tokens); what a slave must receive travels in the outbox payload's
 * sealed fields (issue 4), never in the event stream.
 */
export const EVENT_TYPES = [
  'slave_registered',
  'slave_disabled',
  'slave_created',
  /** A disabled slave enabled again by an admin. */
  'slave_enabled',
  /** A slave's URL changed by an admin. */
  'slave_updated',
  /** A verifySettings call refused (its reason; a wrong key is authn_key_fail, a refused URL slave_url_refused). */
  'slave_verify_failed',
  /** A slave URL refused by the outbound policy at registration (verifySettings, admin): rule and reason. */
  'slave_url_refused',
  'settings_changed',
  'authn_login_success',
  'authn_login_fail',
  'authn_login_lock',
  'authn_login_unlock',
  'authn_key_fail',
  'authn_password_change',
  /** A member's master sessions ended by an admin ("log out everywhere"). */
  'session_expired',
  'user_created',
  'user_updated',
  'user_validated',
  'user_banned',
  'user_unbanned',
  'user_merged',
  'user_deleted',
  'delivery_dead',
  'delivery_retried',
  /** A delivery ended by an admin (never sent), or because its slave was deleted. */
  'delivery_discarded',
  /** A slave deleted by an admin: its pending deliveries are discarded; its audit history stays. */
  'slave_deleted',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/** The IPS actions a master propagates to its slaves (spec §2, "→ slaves"). */
export const PROPAGATED_ACTIONS = ['register', 'validate', 'delete', 'ban', 'merge', 'changeEmail', 'changePassword', 'changeName'] as const;
export type PropagatedAction = (typeof PROPAGATED_ACTIONS)[number];

/**
 * The BullMQ queue of deliveries (keys `bull:deliveries:*`): written by the propagator only; the
 * admin's queue dashboard reads it (docs/architecture.md, "Redis key families").
 */
export const DELIVERY_QUEUE_NAME = 'deliveries';

/** Permission areas and levels of the application API (spec §3, A6). */
export const AREAS = ['doc', 'blog', 'post', 'network', 'profile'] as const;
export type Area = (typeof AREAS)[number];
export const LEVELS = ['read', 'write', 'delete'] as const;
export type Level = (typeof LEVELS)[number];
