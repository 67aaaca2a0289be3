import { Inject, Injectable } from '@nestjs/common';
import { CLOCK, Clock } from '@switchboard/identity';
import { AppKeysService } from './app-keys.service';
import { GrantsService } from './grants.service';
import { Grant, describeGrant, parsePermissions } from './permissions';
import { hasForbiddenCharacters, verifyHmac, verifyMd5 } from './signature';

// What auth says of a link crosses to the gateway: its message is written in libs/contracts.
export type { LinkCheck } from '@switchboard/contracts';
import type { ApproveAnswer, LinkCheck } from '@switchboard/contracts';

/**
 * The consent flow (A9) on the auth service's side: checks a signed authorization link and records
 * an approval (frobs and grants are auth's). The sign-in runs in the gateway (ConsentSignIn).
 */
@Injectable()
export class AuthorizeService {
  constructor(
    @Inject(CLOCK) private readonly clock: Clock,
    private readonly keys: AppKeysService,
    private readonly grants: GrantsService,
  ) {}

  /** An authorization link: always signed, with method "" (§1.3); perm_* known; a frob for desktop keys. */
  async check(params: [string, string][]): Promise<LinkCheck> {
    const get = (n: string) => params.find(([k]) => k === n)?.[1];
    const apiKey = get('api_key');
    if (!apiKey) return { ok: false, error: 'The link has no api_key.' };
    const key = await this.keys.get(apiKey);
    if (!key || !key.enabled) return { ok: false, error: 'This application key is invalid or disabled.' };
    if (params.some(([k, v]) => hasForbiddenCharacters(k) || hasForbiddenCharacters(v))) return { ok: false, error: 'The link is malformed.' };
    const sig = get('api_sig');
    const signed = params.filter(([k]) => k !== 'api_sig');
    const valid =
      sig !== undefined &&
      (key.signatureMode === 'hmac-sha256' ? verifyHmac(sig, signed, '', key.secret) : verifyMd5(sig, signed, '', key.secret, key.acceptOrderA));
    if (!valid) return { ok: false, error: sig === undefined ? 'The link is not signed.' : 'The link signature is invalid.' };
    const perms = parsePermissions(signed);
    if (!perms.ok) return { ok: false, error: `The link asks for an unknown permission: ${perms.error}.` };
    if (Object.keys(perms.grant).length === 0) return { ok: false, error: 'The link asks for no permission.' };
    const frob = get('frob') ?? null;
    if (key.type === 'desktop') {
      if (!frob || !(await this.grants.frobUsable(key.apiKey, frob, this.clock.now()))) return { ok: false, error: 'The authorization request has expired or was already used. Start again from the application.' };
    } else if (!key.callbackUrl) {
      return { ok: false, error: 'This web application has no callback URL.' };
    }
    return {
      ok: true,
      app: { apiKey: key.apiKey, title: key.title, description: key.description, type: key.type, callbackUrl: key.callbackUrl },
      grant: perms.grant,
      sentences: describeGrant(perms.grant),
      frob: key.type === 'desktop' ? frob : null,
    };
  }

  /** Approval: a web key gets a fresh approved frob to send to its callback; a desktop frob is approved. */
  async approve(params: [string, string][], memberId: number): Promise<ApproveAnswer> {
    const link = await this.check(params);
    if (!link.ok) return link;
    const now = this.clock.now();
    if (link.app.type === 'desktop') {
      const approved = await this.grants.approveFrob(link.app.apiKey, link.frob!, memberId, link.grant, now);
      return approved ? { ok: true, redirect: null } : { ok: false, error: 'The authorization request has expired or was already used.' };
    }
    const frob = await this.grants.newFrob(link.app.apiKey, now, { memberId, permissions: link.grant });
    const url = new URL(link.app.callbackUrl!);
    url.searchParams.set('frob', frob);
    return { ok: true, redirect: url.toString() };
  }
}
