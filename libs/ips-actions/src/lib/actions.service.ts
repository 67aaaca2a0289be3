import { BadRequestException, Inject, Injectable, Logger } from '@nestjs/common';
import {
  CLOCK,
  Clock,
  IDENTITY_OPTIONS,
  IdentityOptions,
  KeyMatch,
  KeyringService,
  LoginService,
  MembersService,
  Origin,
  SecurityEventsService,
  SlaveUrlGuard,
  SlavesService,
} from '@switchboard/identity';
import { SALT, hashMatchesSaltFormat } from '@switchboard/credentials';
import { md5Hex } from '@switchboard/crypto';
import { isHttpUrl, parseMemberId, usableEmail, usableName } from '@switchboard/input-rules';
import { BrowserAction, ChainPlan, ChainRequest, IpsActionRequest, IpsAnswer, Params, paramsFromObject, phpEqualsOne, stringParam } from '@switchboard/ips-protocol';
import { withoutCredentials } from '@switchboard/outbound';

const MAX_SLAVE_KEY = 255;

const OK: IpsAnswer = { status: 'SUCCESS' };

/**
 * Runs IPS Connect actions in the auth service, in IPS's order for each: key check (BAD_KEY), then
 * required parameters (REQUEST_MISSING_DATA), then business rules, then the answer with its fields
 * in protocol order. One method per `do=` action; Switchboard's decisions (spec §7) are noted where
 * they apply. A value that is present but unusable (malformed id, over-long name, array) counts as
 * missing.
 */
@Injectable()
export class IpsActionsService {
  private readonly logger = new Logger('IpsActions');

  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(IDENTITY_OPTIONS) private readonly options: IdentityOptions,
    private readonly keyring: KeyringService,
    private readonly slaves: SlavesService,
    private readonly members: MembersService,
    private readonly logins: LoginService,
    private readonly events: SecurityEventsService,
    private readonly slaveUrls: SlaveUrlGuard,
  ) {}

  async run(request: IpsActionRequest): Promise<IpsAnswer> {
    const p = paramsFromObject(request.params);
    const caller = request.remoteAddress;
    switch (request.action) {
      case 'verifySettings':
        return this.verifySettings(p, caller);
      case 'disableSlave':
        return this.disableSlave(p, caller);
      case 'register':
        return this.register(p, caller);
      case 'validate':
        return this.memberAction(p, caller, 'validate', (id, o, now) => this.members.validate(id, o, now));
      case 'delete':
        return this.memberAction(p, caller, 'delete', (id, o, now) => this.members.delete(id, o, now));
      case 'ban':
        return this.memberAction(p, caller, 'ban', (id, o, now) => this.members.ban(id, stringParam(p, 'status') === '1', o, now));
      case 'merge':
        return this.merge(p, caller);
      case 'changeEmail':
        return this.changeEmail(p, caller);
      case 'changePassword':
        return this.changePassword(p, caller);
      case 'changeName':
        return this.changeName(p, caller);
      default:
        // fetchSalt, fetchId, checkEmail, checkName and login run in the gateway (docs/architecture.md).
        throw new BadRequestException(`${request.action} is answered by the gateway`);
    }
  }

  // ---- keys and callers -------------------------------------------------------------------------

  /** The key check; a refusal is recorded as `authn_key_fail`. */
  private async key(p: Params, action: string, id: string | null, caller: string | null): Promise<KeyMatch | null> {
    const match = await this.keyring.match(stringParam(p, 'key'), id, stringParam(p, 'url'));
    if (!match) {
      const slave = await this.urlSlave(p);
      const url = stringParam(p, 'url');
      await this.events.record('authn_key_fail', { slaveId: slave?.id ?? null, data: { action, caller, url: url ? withoutCredentials(url).slice(0, 300) : null } }, this.clock.now());
    }
    return match;
  }

  private async urlSlave(p: Params) {
    const url = stringParam(p, 'url');
    return url ? this.slaves.findByUrl(url) : null;
  }

  /**
   * The calling slave (spec D4, D5): the owner of a per-slave key, else the registered slave named by
   * `url`. Its last access is updated.
   */
  private async origin(p: Params, match: KeyMatch): Promise<Origin> {
    const slaveId = match.via === 'slave' ? match.slaveId : ((await this.urlSlave(p))?.id ?? null);
    if (slaveId !== null) await this.slaves.touch(slaveId, this.clock.now());
    return { slaveId, source: 'auth' };
  }

  // ---- actions ----------------------------------------------------------------------------------

  /** §2.1: register (or re-register, rotating its key) the calling slave. */
  private async verifySettings(p: Params, caller: string | null): Promise<IpsAnswer> {
    const match = await this.key(p, 'verifySettings', null, caller);
    if (!match) return { status: 'BAD_KEY' };
    const url = stringParam(p, 'url');
    const ourKey = stringParam(p, 'ourKey');
    const reason = !url ? 'url missing' : !isHttpUrl(url) ? 'url is not an http(s) URL' : !ourKey ? 'ourKey missing' : ourKey.length > MAX_SLAVE_KEY ? `ourKey longer than ${MAX_SLAVE_KEY} characters` : null;
    if (reason) return this.verifyFailed(reason, url, match.via === 'slave' ? match.slaveId : null, caller);
    if (match.via === 'slave') {
      // A per-slave master key registers only the URL it was issued for: a leaked slave config
      // cannot enrol a rogue slave that would receive every change.
      const owner = await this.slaves.findById(match.slaveId!);
      if (owner?.url !== url) return this.verifyFailed('per-slave master key issued for another URL', url, match.slaveId, caller);
    }
    // The outbound policy (http/https, no credentials, public addresses unless
    // SLAVE_URL_ALLOW_PRIVATE): a refusal is logged and audited as slave_url_refused.
    if (await this.slaveUrls.refusal(url!, 'verifySettings', caller)) return { status: 'FAILURE' };
    await this.slaves.register(url!, ourKey!, this.clock.now());
    return OK;
  }

  /**
   * A verifySettings refused for a reason the slave's operator must see (issue 12): logged and
   * audited as `slave_verify_failed` with the reason (a wrong key is `authn_key_fail`, a URL the
   * outbound policy refuses `slave_url_refused`). The answer stays IPS's FAILURE.
   */
  private async verifyFailed(reason: string, url: string | undefined, slaveId: number | null, caller: string | null): Promise<IpsAnswer> {
    const shown = url ? withoutCredentials(url).slice(0, 300) : null;
    this.logger.warn(`verifySettings refused: ${reason} (url ${shown ?? '-'}, caller ${caller ?? '-'})`);
    await this.events.record('slave_verify_failed', { slaveId, data: { reason, url: shown, caller } }, this.clock.now());
    return { status: 'FAILURE' };
  }

  /** §2.2: SUCCESS even when no such slave exists. */
  private async disableSlave(p: Params, caller: string | null): Promise<IpsAnswer> {
    const match = await this.key(p, 'disableSlave', null, caller);
    if (!match) return { status: 'BAD_KEY' };
    const slave = match.via === 'slave' ? await this.slaves.findById(match.slaveId!) : await this.urlSlave(p);
    if (slave) await this.slaves.disable(slave.id, 'disableSlave', this.clock.now());
    return OK;
  }

  /** §2.8 with D9 (clashes refused, identical retry answered with the existing id). */
  private async register(p: Params, caller: string | null): Promise<IpsAnswer> {
    const match = await this.key(p, 'register', null, caller);
    if (!match) return { status: 'BAD_KEY' };
    const name = usableName(stringParam(p, 'name'));
    const email = usableEmail(stringParam(p, 'email'));
    const passHash = stringParam(p, 'pass_hash');
    const passSalt = stringParam(p, 'pass_salt');
    if (!name || !email || !passHash || !passSalt || !SALT.test(passSalt) || !hashMatchesSaltFormat(passHash, passSalt)) {
      return { status: 'REQUEST_MISSING_DATA' };
    }
    const revalidate = stringParam(p, 'revalidateUrl');
    const origin = await this.origin(p, match);
    const now = this.clock.now();
    const result = await this.members.register(
      { name, email, passHash, passSalt, revalidateUrl: revalidate && isHttpUrl(revalidate) ? revalidate : null },
      origin,
      now,
    );
    switch (result.outcome) {
      case 'created':
      case 'existing':
        // The gateway marks the recent authentication (spec D14) when it relays this SUCCESS.
        return { status: 'SUCCESS', connect_id: result.member.id };
      case 'email_in_use':
        return { status: 'EMAIL_IN_USE' };
      default:
        return { status: 'USERNAME_IN_USE' };
    }
  }

  /**
   * The id-actions' common start: D6 (a missing or malformed member id is REQUEST_MISSING_DATA),
   * then the key over the id exactly as received.
   */
  private async idAction(p: Params, action: string, caller: string | null): Promise<{ answer: IpsAnswer } | { id: number; origin: Origin }> {
    const raw = stringParam(p, 'id');
    const id = parseMemberId(raw);
    if (id === null) return { answer: { status: 'REQUEST_MISSING_DATA' } };
    const match = await this.key(p, action, raw!, caller);
    if (!match) return { answer: { status: 'BAD_KEY' } };
    return { id, origin: await this.origin(p, match) };
  }

  /** validate / delete / ban (§2.9–2.11): unknown ids answer SUCCESS and propagate nothing (D10). */
  private async memberAction(
    p: Params,
    caller: string | null,
    action: string,
    change: (id: number, origin: Origin, now: Date) => Promise<unknown>,
  ): Promise<IpsAnswer> {
    const r = await this.idAction(p, action, caller);
    if ('answer' in r) return r.answer;
    await change(r.id, r.origin, this.clock.now());
    return OK;
  }

  /** §2.12: `remote=` is accepted for `remove=` (a known client bug) when `remove` is absent. */
  private async merge(p: Params, caller: string | null): Promise<IpsAnswer> {
    const r = await this.idAction(p, 'merge', caller);
    if ('answer' in r) return r.answer;
    const remove = parseMemberId(stringParam(p, 'remove') ?? (p.has('remove') ? undefined : stringParam(p, 'remote')));
    if (remove !== null) await this.members.merge(r.id, remove, r.origin, this.clock.now());
    return OK;
  }

  /** §2.14 with D10. */
  private async changeEmail(p: Params, caller: string | null): Promise<IpsAnswer> {
    const r = await this.idAction(p, 'changeEmail', caller);
    if ('answer' in r) return r.answer;
    const email = usableEmail(stringParam(p, 'email'));
    if (!email) return { status: 'REQUEST_MISSING_DATA' };
    const outcome = await this.members.changeEmail(r.id, email, r.origin, this.clock.now());
    return outcome === 'in_use' ? { status: 'EMAIL_IN_USE' } : OK;
  }

  /** §2.16 with D10. */
  private async changeName(p: Params, caller: string | null): Promise<IpsAnswer> {
    const r = await this.idAction(p, 'changeName', caller);
    if ('answer' in r) return r.answer;
    const name = usableName(stringParam(p, 'name'));
    if (!name) return { status: 'REQUEST_MISSING_DATA' };
    const outcome = await this.members.changeName(r.id, name, r.origin, this.clock.now());
    return outcome === 'in_use' ? { status: 'USERNAME_IN_USE' } : OK;
  }

  /** §2.15: the hash must have the format its salt implies (the master never sees the plaintext). */
  private async changePassword(p: Params, caller: string | null): Promise<IpsAnswer> {
    const r = await this.idAction(p, 'changePassword', caller);
    if ('answer' in r) return r.answer;
    const passHash = stringParam(p, 'pass_hash');
    const passSalt = stringParam(p, 'pass_salt');
    if (!passHash || !passSalt || !SALT.test(passSalt) || !hashMatchesSaltFormat(passHash, passSalt)) {
      return { status: 'REQUEST_MISSING_DATA' };
    }
    await this.members.changePassword(r.id, passHash, passSalt, r.origin, this.clock.now());
    return OK;
  }

  // ---- browser chains (§4, D14) -----------------------------------------------------------------

  private async returnToAllowed(returnTo: string): Promise<boolean> {
    if (!isHttpUrl(returnTo)) return false;
    const origin = new URL(returnTo).origin;
    if (origin === new URL(this.options.publicUrl).origin) return true;
    const slaves = await this.slaves.enabledWithKeys();
    return slaves.some((s) => {
      try {
        return new URL(s.url).origin === origin;
      } catch {
        return false;
      }
    });
  }

  /** The first hit of a crossLogin / logout: what the gateway must do. */
  async planChain(request: ChainRequest): Promise<ChainPlan> {
    const p = paramsFromObject(request.params);
    const action: BrowserAction = request.action;
    const plan = (outcome: ChainPlan['outcome'], reason: string, extra: Partial<ChainPlan> = {}): ChainPlan => ({
      outcome,
      reason,
      login: false,
      memberId: null,
      sessionEpoch: null,
      returnTo: null,
      hops: [],
      ...extra,
    });
    if (phpEqualsOne(p.get('slaveCall'))) return plan('forbidden', 'slave hop sent to the master');
    const raw = stringParam(p, 'id');
    const id = parseMemberId(raw);
    if (id === null) return plan('forbidden', 'missing or malformed id');
    const match = await this.key(p, action, raw!, request.remoteAddress);
    if (!match) return plan('forbidden', 'bad key');
    const returnTo = stringParam(p, 'returnTo');
    if (!returnTo || !(await this.returnToAllowed(returnTo))) return plan('forbidden', 'returnTo not allowed');
    const origin = await this.origin(p, match);
    const member = await this.members.findById(id);
    if (!member) return plan('straight', 'unknown id', { returnTo });
    if (action === 'crossLogin' && !(await this.logins.hasRecentAuth(id))) {
      return plan('straight', 'no recent authentication for this id', { returnTo });
    }
    const url = stringParam(p, 'url');
    const hops = (await this.slaves.enabledWithKeys())
      .filter((s) => s.id !== origin.slaveId && s.url !== url)
      .map((s) => {
        const params: [string, string][] = [
          ['do', action],
          ['key', md5Hex(s.key, String(id))],
          ['id', String(id)],
          ['slaveCall', '1'],
        ];
        if (url !== undefined) params.push(['url', url]);
        // Credentials never reach a browser's Location (they are refused at registration; a slave
        // registered with some before that rule is sent there without them).
        return { url: withoutCredentials(s.url), params };
      });
    const extra = { returnTo, memberId: id, sessionEpoch: member.sessionEpoch, login: action === 'crossLogin', hops };
    return hops.length ? plan('chain', 'chain', extra) : plan('straight', 'no other enabled slave', extra);
  }
}
