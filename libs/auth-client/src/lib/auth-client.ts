import { Inject, Injectable } from '@nestjs/common';
import type { ApiExecution, ApiResult, AppKeysSnapshot, LinkCheck } from '@switchboard/app-api';
import type { ChainPlan, ChainRequest, IpsActionRequest, IpsAnswer, KeyringSnapshot } from '@switchboard/ips-protocol';

export const AUTH_CLIENT_OPTIONS = Symbol('AUTH_CLIENT_OPTIONS');
export interface AuthClientOptions {
  /** Base URL of the auth service, e.g. http://127.0.0.1:3001 */
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
}

/** The auth service could not be reached or failed; the caller answers "try again later". */
export class AuthUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthUnavailableError';
  }
}

/** The auth service did not accept the call (4xx): a bug on our side or a bad argument. */
export class AuthRejectedError extends Error {
  constructor(readonly status: number, readonly body: unknown) {
    super(`auth service answered HTTP ${status}`);
    this.name = 'AuthRejectedError';
  }
}

/** How the other services (gateway, admin, propagator) call the auth service (which alone writes members, keys and slaves, and hands key material to the gateway). */
@Injectable()
export class AuthClient {
  constructor(@Inject(AUTH_CLIENT_OPTIONS) private readonly options: AuthClientOptions) {}

  ipsAction(request: IpsActionRequest): Promise<IpsAnswer> {
    return this.call<IpsAnswer>('POST', '/internal/ipsconnect', request, request.requestId);
  }

  /** Executes an application API call the gateway has checked (a method that changes what auth owns). */
  apiExecute(execution: ApiExecution): Promise<ApiResult> {
    return this.call<ApiResult>('POST', '/internal/api/execute', execution, null);
  }

  /** Every application key with its keyring version; the gateway keeps them per version. */
  appKeys(): Promise<AppKeysSnapshot> {
    return this.call<AppKeysSnapshot>('GET', '/internal/app-keys', undefined, null);
  }

  checkLink(params: [string, string][]): Promise<LinkCheck> {
    return this.call<LinkCheck>('POST', '/internal/api/authorize/check', { params }, null);
  }

  approve(params: [string, string][], memberId: number): Promise<{ ok: true; redirect: string | null } | { ok: false; error: string }> {
    return this.call('POST', '/internal/api/authorize/approve', { params, memberId }, null);
  }

  memberGrants(memberId: number): Promise<{ id: number; api_key: string; title: string; permissions: Record<string, string>; since: string }[]> {
    return this.call('GET', `/internal/api/grants/${memberId}`, undefined, null);
  }

  async revokeGrant(memberId: number, grantId: number): Promise<boolean> {
    const r = await this.request('POST', `/internal/api/grants/${memberId}/${grantId}/revoke`, undefined, null);
    return r.status === 200;
  }

  /** The key material (auth is its only issuer and store); the gateway keeps it per keyring version. */
  keyring(): Promise<KeyringSnapshot> {
    return this.call<KeyringSnapshot>('GET', '/internal/keyring', undefined, null);
  }

  planChain(request: ChainRequest): Promise<ChainPlan> {
    return this.call<ChainPlan>('POST', '/internal/ipsconnect/chain', request, request.requestId);
  }

  /**
   * Disables a slave (the one disable path: row and `slave_disabled` event written by auth); true
   * when this call disabled it, false when it already was or no longer exists.
   */
  async disableSlave(slaveId: number, reason: string): Promise<boolean> {
    const { status, body } = await this.request('POST', `/internal/slaves/${slaveId}/disable`, { reason }, null);
    if (status === 404) return false;
    if (status >= 400) throw new AuthRejectedError(status, body);
    return (body as { disabled?: boolean }).disabled === true;
  }

  /**
   * Admin commands (`/internal/admin/...`): the auth service's answer as it is, 4xx included, so the
   * admin API can relay validation errors and conflicts unchanged.
   */
  async admin(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, requestId: string | null = null): Promise<{ status: number; body: unknown }> {
    return this.request(method, `/internal/admin${path}`, body, requestId);
  }

  /** true when the auth service is ready (its own stores answer) within 2 s. */
  async isReady(): Promise<boolean> {
    try {
      const res = await fetch(this.options.baseUrl + '/health/ready', { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.ok;
    } catch {
      return false;
    }
  }

  private async call<T>(method: string, path: string, body: unknown, requestId: string | null): Promise<T> {
    const { status, body: parsed } = await this.request(method, path, body, requestId);
    if (status >= 400) throw new AuthRejectedError(status, parsed);
    return parsed as T;
  }

  private async request(method: string, path: string, body: unknown, requestId: string | null): Promise<{ status: number; body: unknown }> {
    let response: Response;
    try {
      response = await fetch(this.options.baseUrl + path, {
        method,
        headers: {
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          'x-internal-token': this.options.internalToken,
          ...(requestId ? { 'x-request-id': requestId } : {}),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new AuthUnavailableError(`auth service unreachable: ${(err as Error).message}`);
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (response.status >= 500) throw new AuthUnavailableError(`auth service answered HTTP ${response.status}`);
    return { status: response.status, body: parsed };
  }
}
