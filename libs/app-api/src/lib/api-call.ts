import { isIP } from 'node:net';
import { EXECUTED_IN_AUTH_METHODS } from '@switchboard/contracts';
import type { ApiResult } from '@switchboard/contracts';
import { ApiNode, el } from './envelope';
import { ApiError } from './errors';
import { MethodSpec } from './methods';
import { Grant, permissionAttributes } from './permissions';
import type { SignedParams } from './signature';

/** A call as the gateway received it: parameters decoded, a repeated name reduced to its last value. */
export interface ApiCall {
  method: string;
  httpMethod: string;
  params: SignedParams;
  /** Some name or value was not well-formed UTF-8. */
  undecodable: boolean;
  remoteAddress: string | null;
  /** The request id (x-request-id), passed on to auth when auth executes the method. */
  requestId?: string | null;
}


// The messages between gateway and auth (an execution and its result, the keys snapshot) are
// written once, in libs/contracts.
export type { ApiExecution, ApiResult, AppKeyMaterial, AppKeysSnapshot } from '@switchboard/contracts';

/**
 * The methods that change what the auth service owns (frobs, grants, tokens, members): the gateway
 * checks the call (key, limits, signature, token, permission) and auth executes it.
 */
export const EXECUTED_IN_AUTH: ReadonlySet<string> = new Set(EXECUTED_IN_AUTH_METHODS);

/** `account.setName` / `account.setEmail` "already in use" limits (docs/application-api.md). */
export const IN_USE_LIMITS = {
  perMemberPerHour: 5,
  perKeyPerHour: 50,
  message: 'Too many names or e-mail addresses already in use were tried. Try again in an hour.',
} as const;

/** The value of a parameter, an empty one counting as absent. */
export function paramOf(params: SignedParams, name: string): string | undefined {
  const v = params.find(([k]) => k === name)?.[1];
  return v === '' ? undefined : v;
}

/** An ApiError as the answer of a call (112/113: Retry-After 60; 503: Retry-After 5). */
export function errorResult(err: ApiError): ApiResult {
  const retryAfter = err.code === 112 || err.code === 113 ? 60 : err.code === 503 ? 5 : undefined;
  return { ok: false, code: err.code, message: err.message, ...(retryAfter ? { retryAfter } : {}) };
}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((acc, part) => (acc << 8) + Number(part), 0) >>> 0;
}

/** Whether `ip` is in one of `networks` (IPv4 CIDR or exact addresses; IPv4-mapped IPv6 handled). */
export function inNetworks(ip: string, networks: string[]): boolean {
  const addr = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  return networks.some((net) => {
    const [base, bits] = net.split('/');
    if (isIP(addr) === 4 && isIP(base) === 4) {
      const n = bits === undefined ? 32 : Number(bits);
      const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
      return (ipv4ToInt(addr) & mask) === (ipv4ToInt(base) & mask);
    }
    return addr.toLowerCase() === base.toLowerCase();
  });
}

export function userNode(member: { id: number; name: string }, extra: Record<string, string | number | boolean> = {}): ApiNode {
  return el('user', { user_id: member.id, username: member.name, realname: member.name, lg: 'en', is_pro: '0', ...extra });
}

export function authNode(token: string, permissions: Grant, member: { id: number; name: string }): ApiNode {
  return el('auth', {}, [el('token', {}, token), el('permissions', permissionAttributes(permissions)), userNode(member)]);
}

export function methodNode(m: MethodSpec, detail: boolean): ApiNode {
  const children: ApiNode[] = [
    el('authentication', { post: m.post, sign: m.sign, token: m.token }),
    { ...el('permissions', m.permissions as Record<string, string>) },
  ];
  if (detail) {
    children.push(el('parameters', {}, m.parameters.map((p) => ({ ...el('parameter', { name: p.name, required: p.required }, p.about), list: true }))));
    children.push(el('errors', {}, m.errors.map((e) => ({ ...el('error', { code: e.code }, e.message), list: true }))));
  }
  return { ...el('method', { name: m.name, title: m.title, about: m.about }, children), list: !detail };
}
