import { BROWSER_ACTIONS, BrowserAction, IPS_ACTIONS, IpsAction } from '@switchboard/contracts';

// The wire vocabulary and the messages of IPS actions between gateway and auth are written once, in
// libs/contracts; the protocol re-exports them for its users.
export { BROWSER_ACTIONS, IPS_ACTIONS, IPS_PARAM_NAMES, IPS_STATUSES } from '@switchboard/contracts';
export type { BrowserAction, ChainPlan, ChainRequest, IpsAction, IpsActionRequest, IpsAnswer, IpsStatus } from '@switchboard/contracts';

export function isIpsAction(value: string | undefined): value is IpsAction {
  return value !== undefined && (IPS_ACTIONS as readonly string[]).includes(value);
}

export function isBrowserAction(value: string | undefined): value is BrowserAction {
  return value !== undefined && (BROWSER_ACTIONS as readonly string[]).includes(value);
}

/** The paths IPS slaves are configured with (spec D2), all serving the same protocol. */
export const IPS_CONNECT_PATHS = [
  'ipsconnect',
  'applications/core/interface/ipsconnect/ipsconnect.php',
  'interface/ipsconnect/ipsconnect.php',
];
