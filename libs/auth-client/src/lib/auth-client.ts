import { Inject, Injectable } from '@nestjs/common';
import {
  ApiExecution,
  ApiResult,
  AppKeysSnapshot,
  ApproveAnswer,
  ChainPlan,
  ChainRequest,
  Contract,
  IpsActionRequest,
  IpsAnswer,
  KeyringSnapshot,
  LinkCheck,
  MemberGrants,
  ResponseOf,
  apiExecuteContract,
  appKeysContract,
  approveContract,
  chainPlanContract,
  checkLinkContract,
  disableSlaveContract,
  ipsActionContract,
  keyringContract,
  memberGrantsContract,
  revokeGrantContract,
} from '@switchboard/contracts';
import { InternalCall, InternalClient } from '@switchboard/runtime';

export const AUTH_CLIENT_OPTIONS = Symbol('AUTH_CLIENT_OPTIONS');
export interface AuthClientOptions {
  /** Base URL of the auth service, e.g. http://127.0.0.1:3001 */
  baseUrl: string;
  internalToken: string;
  timeoutMs?: number;
}

/** The auth service could not be reached, failed, or answered what breaks the contract; the caller answers "try again later". */
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

/**
 * How the other services (gateway, admin, propagator) call the auth service (which alone writes
 * members, keys and slaves, and hands key material to the gateway). Every call is one contract of
 * libs/contracts: what is sent and what comes back are checked against it.
 */
@Injectable()
export class AuthClient {
  private readonly client: InternalClient;

  constructor(@Inject(AUTH_CLIENT_OPTIONS) private readonly options: AuthClientOptions) {
    this.client = new InternalClient({ ...options, unavailable: (message) => new AuthUnavailableError(message) });
  }

  ipsAction(request: IpsActionRequest): Promise<IpsAnswer> {
    return this.send(ipsActionContract, { body: request, requestId: request.requestId });
  }

  /** Executes an application API call the gateway has checked (a method that changes what auth owns). */
  apiExecute(execution: ApiExecution, requestId: string | null = null): Promise<ApiResult> {
    return this.send(apiExecuteContract, { body: execution, requestId });
  }

  /** Every application key with its keyring version; the gateway keeps them per version. */
  appKeys(): Promise<AppKeysSnapshot> {
    return this.send(appKeysContract);
  }

  checkLink(params: [string, string][], requestId: string | null = null): Promise<LinkCheck> {
    return this.send(checkLinkContract, { body: { params }, requestId });
  }

  approve(params: [string, string][], memberId: number, requestId: string | null = null): Promise<ApproveAnswer> {
    return this.send(approveContract, { body: { params, memberId }, requestId });
  }

  memberGrants(memberId: number, requestId: string | null = null): Promise<MemberGrants> {
    return this.send(memberGrantsContract, { params: { member: memberId }, requestId });
  }

  async revokeGrant(memberId: number, grantId: number, requestId: string | null = null): Promise<boolean> {
    const r = await this.client.call(revokeGrantContract, { params: { member: memberId, grant: grantId }, requestId });
    return r.status === 200;
  }

  /** The key material (auth is its only issuer and store); the gateway keeps it per keyring version. */
  keyring(): Promise<KeyringSnapshot> {
    return this.send(keyringContract);
  }

  planChain(request: ChainRequest): Promise<ChainPlan> {
    return this.send(chainPlanContract, { body: request, requestId: request.requestId });
  }

  /**
   * Disables a slave (the one disable path: row and `slave_disabled` event written by auth); true
   * when this call disabled it, false when it already was or no longer exists.
   */
  async disableSlave(slaveId: number, reason: string): Promise<boolean> {
    const { status, body } = await this.client.call(disableSlaveContract, { params: { id: slaveId }, body: { reason } });
    if (status === 404) return false;
    if (status >= 400) throw new AuthRejectedError(status, body);
    return (body as ResponseOf<typeof disableSlaveContract>).disabled;
  }

  /**
   * An admin command (`/internal/admin/...`, a contract of libs/contracts): the auth service's answer
   * as it is, 4xx included, so the admin API can relay validation errors and conflicts unchanged.
   */
  admin(c: Contract, call: InternalCall = {}): Promise<{ status: number; body: unknown }> {
    return this.client.call(c, call);
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

  private async send<C extends Contract>(c: C, call: InternalCall = {}): Promise<ResponseOf<C>> {
    const { status, body } = await this.client.call(c, call);
    if (status >= 400) throw new AuthRejectedError(status, body);
    return body as ResponseOf<C>;
  }
}
