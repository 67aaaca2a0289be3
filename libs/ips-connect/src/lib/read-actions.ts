import { Injectable } from '@nestjs/common';
import { StreamEmitter, newEvent } from '@switchboard/events';
import {
  IpsAction,
  IpsAnswer,
  KeyMatch,
  KeyringSnapshot,
  Params,
  idLookup,
  matchMasterKey,
  slaveByUrl,
  stringParam,
} from '@switchboard/ips-protocol';
import { withoutCredentials } from '@switchboard/outbound';
import { GatewayKeyring } from './gateway-keyring';
import { LoginGate } from './login-gate';
import { MemberReads } from './member-reads';
import { SlaveSeen } from './slave-seen';

/** The IPS Connect actions the gateway answers itself: reads, one query each (docs/architecture.md). */
export const READ_ACTIONS: ReadonlySet<IpsAction> = new Set<IpsAction>(['fetchSalt', 'fetchId', 'checkEmail', 'checkName', 'login']);

/**
 * fetchSalt, fetchId, checkEmail and checkName in the gateway process, in IPS's order for each
 * (key → required parameters → lookup), with the answers the auth service gave for them before:
 * one prepared query (the member and the keyring version), the key checked against the gateway's
 * copy of the keys (never older than that version), no write to PostgreSQL. A refused key is
 * recorded as `authn_key_fail` on the event stream.
 */
@Injectable()
export class IpsReadActions {
  constructor(
    private readonly members: MemberReads,
    private readonly keyring: GatewayKeyring,
    private readonly seen: SlaveSeen,
    private readonly events: StreamEmitter,
    private readonly logins: LoginGate,
  ) {}

  run(action: IpsAction, p: Params, caller: string | null): Promise<IpsAnswer> {
    switch (action) {
      case 'fetchSalt':
      case 'fetchId':
        return this.byId(action, p, caller);
      case 'checkEmail':
      case 'checkName':
        return this.check(action, p, caller);
      case 'login':
        return this.login(p, caller);
      default:
        throw new Error(`${action} is not a read action`);
    }
  }

  /** The key check against keys at least as new as `read.version`; a refusal is recorded. */
  private async key(p: Params, action: string, id: string | null, caller: string | null, read: { version: number }): Promise<{ keys: KeyringSnapshot; match: KeyMatch | null }> {
    const keys = await this.keyring.atLeast(read.version);
    const url = stringParam(p, 'url');
    const match = matchMasterKey(keys, stringParam(p, 'key'), id, url);
    if (!match) {
      const slave = slaveByUrl(keys, url);
      await this.events.emit(
        newEvent('authn_key_fail', 'gateway', { slaveId: slave?.id ?? null, data: { action, caller, url: url ? withoutCredentials(url).slice(0, 300) : null } }),
      );
    }
    return { keys, match };
  }

  /** The calling slave (spec D4, D5): its last access is recorded. */
  private origin(p: Params, keys: KeyringSnapshot, match: KeyMatch): number | null {
    const slaveId = match.via === 'slave' ? match.slaveId : (slaveByUrl(keys, stringParam(p, 'url'))?.id ?? null);
    if (slaveId !== null) this.seen.touch(slaveId, Date.now());
    return slaveId;
  }

  /** §2.4 with D11 (VALIDATING), D12 (lockout), D13 (hash formats, digest comparison). */
  private async login(p: Params, caller: string | null): Promise<IpsAnswer> {
    const id = stringParam(p, 'id');
    if (id === undefined) return { status: 'REQUEST_MISSING_DATA' };
    const idType = stringParam(p, 'idType');
    const read = await this.logins.read(idType === undefined ? null : idLookup(idType), id);
    const { keys, match } = await this.key(p, 'login', id, caller, read);
    if (!match) return { status: 'BAD_KEY' };
    if (idType === undefined) return { status: 'REQUEST_MISSING_DATA' };
    const slaveId = this.origin(p, keys, match);
    const result = await this.logins.login(read.member, stringParam(p, 'password') ?? '', caller, slaveId, keys);
    if (result.status !== 'SUCCESS') return { status: result.status };
    const m = result.member;
    return {
      status: 'SUCCESS',
      connect_status: m.validating || m.revalidateUrl !== null ? 'VALIDATING' : 'SUCCESS',
      email: m.email,
      name: m.name,
      connect_id: m.id,
      connect_revalidate_url: m.revalidateUrl,
    };
  }

  /** §2.3 fetchSalt, §2.5 fetchId. D6: no raw-MK fallback when `id` is missing. */
  private async byId(action: 'fetchSalt' | 'fetchId', p: Params, caller: string | null): Promise<IpsAnswer> {
    const id = stringParam(p, 'id');
    if (id === undefined) return { status: 'REQUEST_MISSING_DATA' };
    const idType = stringParam(p, 'idType');
    const how = idType === undefined ? null : idLookup(idType);
    const read = await this.members.lookup(how, id);
    const { keys, match } = await this.key(p, action, id, caller, read);
    if (!match) return { status: 'BAD_KEY' };
    if (idType === undefined) return { status: 'REQUEST_MISSING_DATA' };
    this.origin(p, keys, match);
    if (!read.member) return { status: 'ACCOUNT_NOT_FOUND' };
    return action === 'fetchSalt' ? { status: 'SUCCESS', pass_salt: read.member.pass_salt } : { status: 'SUCCESS', connect_id: read.member.id };
  }

  /** §2.13 */
  private async check(action: 'checkEmail' | 'checkName', p: Params, caller: string | null): Promise<IpsAnswer> {
    const value = stringParam(p, action === 'checkEmail' ? 'email' : 'name');
    const read = await this.members.lookup(action === 'checkEmail' ? 'email' : 'name', value);
    const { keys, match } = await this.key(p, action, null, caller, read);
    if (!match) return { status: 'BAD_KEY' };
    this.origin(p, keys, match);
    return { status: 'SUCCESS', used: read.member ? 1 : 0 };
  }
}
