import { md5Hex } from '@switchboard/crypto';
import { hrefOf, slaveTarget, withQuery } from './slave-http';

/**
 * IPS's encoding of outgoing parameter values (spec §1.3): everything percent-encoded except
 * `A-Za-z0-9-._~!$'()*,;=:@/?[]`, so `$ / @ :` in hashes, e-mails and URLs travel literally, and
 * `+` is always `%2B`.
 */
export function ipsEncode(value: string): string {
  return encodeURIComponent(value).replace(/%(24|2C|2F|3A|3B|3D|3F|40|5B|5D)/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/** A change encoded once for all the slaves it goes to (only the key differs between them). */
export interface PreparedChange {
  action: string;
  /** The member id the per-member key is computed over; undefined for `register`-like calls. */
  id: string | undefined;
  /** The change's parameters, IPS-encoded, in protocol order. */
  query: string;
}

export function prepareChange(action: string, params: [string, string][]): PreparedChange {
  return {
    action,
    id: params.find(([name]) => name === 'id')?.[1],
    query: params.map(([k, v]) => `${ipsEncode(k)}=${ipsEncode(v)}`).join('&'),
  };
}

/**
 * The request a slave receives for a propagated change (spec §2, §8.6–§8.9):
 * `do=<action>&key=<SK or md5(SK . id)>&<params in protocol order>&slaveCall=1`, appended to the
 * slave's URL (an existing query string kept).
 */
export function slaveRequestUrl(slaveUrl: string, slaveKey: string, action: string, params: [string, string][]): string {
  return preparedRequestUrl(slaveUrl, slaveKey, prepareChange(action, params));
}

/** The whole URL, as the propagator sends it: the slave's request target plus the prepared query. */
export function preparedRequestUrl(slaveUrl: string, slaveKey: string, change: PreparedChange): string {
  const base = slaveTarget(slaveUrl);
  if (!base) throw new TypeError('not a slave URL');
  return hrefOf(withQuery(base, preparedQuery(slaveKey, change)));
}

/** The query a slave receives for a prepared change: `do=…&key=…&<params>&slaveCall=1`. */
export function preparedQuery(slaveKey: string, change: PreparedChange): string {
  const key = change.action === 'register' || change.id === undefined ? slaveKey : md5Hex(slaveKey, change.id);
  return `do=${ipsEncode(change.action)}&key=${ipsEncode(key)}${change.query ? '&' + change.query : ''}&slaveCall=1`;
}
