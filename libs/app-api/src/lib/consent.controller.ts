import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Controller, Get, Inject, Logger, Post, Req, Res } from '@nestjs/common';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { BrowserChainService, SESSION_COOKIE, readCookie } from '@switchboard/ips-connect';
import { decodeForm } from './api-gateway.controller';
import type { LinkCheck } from './authorize.service';
import { ConsentSignIn } from './consent-signin';

/** What the consent pages need from the auth service (AuthClient in the gateway app). */
export interface ConsentRunner {
  checkLink(params: [string, string][], requestId?: string | null): Promise<LinkCheck>;
  approve(params: [string, string][], memberId: number, requestId?: string | null): Promise<{ ok: true; redirect: string | null } | { ok: false; error: string }>;
  memberGrants(memberId: number, requestId?: string | null): Promise<{ id: number; api_key: string; title: string; permissions: Record<string, string>; since: string }[]>;
  revokeGrant(memberId: number, grantId: number, requestId?: string | null): Promise<boolean>;
}
export const CONSENT_RUNNER = Symbol('CONSENT_RUNNER');

const CSRF_COOKIE = 'sb_csrf';
const FORM_FIELDS = new Set(['action', 'csrf', 'login', 'password']);
/** A link carries a handful of parameters; more than this is refused with 400 (auth takes no more). */
export const MAX_LINK_PARAMS = 200;
/** C0 control characters and DEL: no browser sends them from a text or password field. */
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The consent page's answers to a failed sign-in (issue 10 §2): one text for unknown, wrong and locked. */
export const SIGNIN_MESSAGES = {
  wrong: 'Wrong name, e-mail address or password. After several failed attempts an account is locked for a few minutes.',
  callerLimit: 'Too many sign-in attempts from your network address. Wait a minute, then try again.',
  busy: 'Too many sign-ins are being checked right now. Try again in a moment.',
  unavailable: 'The service is unavailable. Try again in a moment.',
} as const;

class TooManyParameters extends Error {}

/** The auth service refused the call as malformed (AuthRejectedError, 4xx): the request was bad. */
function rejectedByAuth(err: unknown): boolean {
  const status = (err as { name?: string; status?: number }).status;
  return (err as Error).name === 'AuthRejectedError' && typeof status === 'number' && status >= 400 && status < 500;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

function page(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:3rem auto;padding:0 1rem;color:#222;line-height:1.5}
h1{font-size:1.4rem}.app{border:1px solid #ccc;border-radius:6px;padding:1rem;margin:1rem 0}
label{display:block;margin:.6rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.5rem;box-sizing:border-box}
button{padding:.5rem 1.2rem;margin:.8rem .6rem 0 0;font-size:1rem}.error{color:#a00}.ok{color:#060;font-weight:bold}
ul.perms li{margin:.3rem 0}
</style>
</head>
<body>
${body}
</body>
</html>
`;
}

/**
 * The consent page (A9) and the member's list of authorized applications. Server-rendered, no
 * external assets, no JavaScript needed; every form is `<form name="fa">` re-posted to the same
 * URL with the link's parameters as hidden inputs, CSRF-protected by a double-submit cookie.
 */
@ApiExcludeController()
@Controller('apps')
export class ConsentController {
  private readonly logger = new Logger('Consent');

  constructor(
    @Inject(CONSENT_RUNNER) private readonly runner: ConsentRunner,
    private readonly sessions: BrowserChainService,
    private readonly signIn: ConsentSignIn,
  ) {}

  private csrf(req: FastifyRequest, reply: FastifyReply): string {
    let token = readCookie(req.headers.cookie, CSRF_COOKIE);
    if (!token || !/^[A-Za-z0-9_-]{43}$/.test(token)) {
      token = randomBytes(32).toString('base64url');
      reply.header('set-cookie', `${CSRF_COOKIE}=${token}; Path=/apps; HttpOnly; SameSite=Strict`);
    }
    return token;
  }

  private csrfOk(req: FastifyRequest, given: string | undefined): boolean {
    const cookie = readCookie(req.headers.cookie, CSRF_COOKIE);
    if (!cookie || !given) return false;
    const a = createHmac('sha256', 'csrf').update(cookie).digest();
    const b = createHmac('sha256', 'csrf').update(given).digest();
    return timingSafeEqual(a, b);
  }

  private html(reply: FastifyReply, status: number, body: string, retryAfter?: number) {
    if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    reply
      .code(status)
      .header('content-type', 'text/html; charset=utf-8')
      .header('x-content-type-options', 'nosniff')
      .header('cache-control', 'no-store')
      .header('x-frame-options', 'DENY')
      .header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self' http: https:; frame-ancestors 'none'")
      .header('referrer-policy', 'no-referrer')
      .send(body);
  }

  private linkParams(req: FastifyRequest): { link: [string, string][]; form: Map<string, string> } {
    const raw = req.raw.url ?? '';
    const q = raw.indexOf('?');
    const query = new Map<string, string>();
    decodeForm(q === -1 ? '' : raw.slice(q + 1), query);
    const form = new Map<string, string>();
    if (typeof req.body === 'string') decodeForm(req.body, form);
    // The link's parameters come back as hidden inputs; the query string wins if both carry one.
    const link = new Map<string, string>();
    for (const [k, v] of form) if (!FORM_FIELDS.has(k)) link.set(k, v);
    for (const [k, v] of query) link.set(k, v);
    if (link.size > MAX_LINK_PARAMS) throw new TooManyParameters();
    return { link: [...link], form };
  }

  private hidden(link: [string, string][], csrf: string): string {
    return [...link, ['csrf', csrf]].map(([k, v]) => `<input type="hidden" name="${esc(k)}" value="${esc(v)}">`).join('\n');
  }

  private loginForm(link: [string, string][], csrf: string, check: Extract<LinkCheck, { ok: true }>, error?: string): string {
    return page(
      `Sign in to authorize ${check.app.title}`,
      `<h1>Sign in to the network</h1>
<p><strong>${esc(check.app.title)}</strong> asks for access to your account. Sign in with your network name or e-mail address and password first.</p>
${error ? `<p class="error" role="alert">${esc(error)}</p>` : ''}
<form name="fa" method="post">
${this.hidden(link, csrf)}
<input type="hidden" name="action" value="login">
<label for="login">Name or e-mail address</label><input type="text" id="login" name="login" autocomplete="username" required>
<label for="password">Password</label><input type="password" id="password" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>`,
    );
  }

  private consentForm(link: [string, string][], csrf: string, check: Extract<LinkCheck, { ok: true }>, name: string): string {
    return page(
      `Authorize ${check.app.title}`,
      `<h1>Authorize an application</h1>
<p>Signed in as <strong>${esc(name)}</strong>.</p>
<div class="app"><h2>${esc(check.app.title)}</h2><p>${esc(check.app.description)}</p></div>
<p>This application asks to:</p>
<ul class="perms">${check.sentences.map((s) => `<li>${esc(s)}</li>`).join('')}</ul>
<p>You can revoke this access at any time on the page <a href="/apps/authorized">Authorized applications</a>.</p>
<form name="fa" method="post">
${this.hidden(link, csrf)}
<button type="submit" name="action" value="approve">Approve</button>
<button type="submit" name="action" value="deny">Deny</button>
</form>`,
    );
  }

  private error(reply: FastifyReply, message: string, status = 400) {
    this.html(reply, status, page('Authorization error', `<h1>This authorization request cannot be used</h1><p class="error">${esc(message)}</p>`));
  }

  /** What a failure the handlers did not expect becomes: 400 for bad input, else 503 (a store or auth is away). */
  private failed(reply: FastifyReply, what: string, err: unknown) {
    if (err instanceof TooManyParameters) return this.error(reply, `The link has too many parameters (at most ${MAX_LINK_PARAMS}).`);
    if (rejectedByAuth(err)) return this.error(reply, 'The authorization request is malformed.');
    this.logger.error(`${what} failed: ${(err as Error).message}`);
    return this.html(reply, 503, page('Service unavailable', `<h1>Service unavailable</h1><p class="error">${esc(SIGNIN_MESSAGES.unavailable)}</p>`), 5);
  }

  private async member(req: FastifyRequest) {
    return this.sessions.liveSession(readCookie(req.headers.cookie, SESSION_COOKIE));
  }

  @Get('authorize')
  async show(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const { link } = this.linkParams(req);
      const check = await this.runner.checkLink(link, String(req.id ?? '') || null);
      if (!check.ok) return this.error(reply, check.error);
      const csrf = this.csrf(req, reply);
      const session = await this.member(req);
      if (!session) return this.html(reply, 200, this.loginForm(link, csrf, check));
      const name = (session as { name?: string }).name ?? `member ${session.memberId}`;
      return this.html(reply, 200, this.consentForm(link, csrf, check, name));
    } catch (err) {
      return this.failed(reply, 'consent page', err);
    }
  }

  @Post('authorize')
  async submit(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const { link, form } = this.linkParams(req);
      const check = await this.runner.checkLink(link, String(req.id ?? '') || null);
      if (!check.ok) return this.error(reply, check.error);
      if (!this.csrfOk(req, form.get('csrf'))) return this.error(reply, 'The form has expired. Open the authorization link again.', 403);
      const csrf = this.csrf(req, reply);
      const action = form.get('action');
      if (action === 'login') {
        const login = form.get('login') ?? '';
        const password = form.get('password') ?? '';
        if (!login || !password || login.length > 255 || password.length > 4096) {
          return this.html(reply, 200, this.loginForm(link, csrf, check, 'Enter your name or e-mail address and your password.'));
        }
        // No account has such a name and no browser field sends such a password: the wrong page.
        if (CONTROL.test(login) || CONTROL.test(password)) return this.html(reply, 200, this.loginForm(link, csrf, check, SIGNIN_MESSAGES.wrong));
        const result = await this.signIn.login(login, password, req.ip ?? null);
        if (!result.ok) {
          switch (result.status) {
            case 'CALLER_LIMIT':
              return this.html(reply, 429, this.loginForm(link, csrf, check, SIGNIN_MESSAGES.callerLimit), 60);
            case 'BUSY':
              return this.html(reply, 503, this.loginForm(link, csrf, check, SIGNIN_MESSAGES.busy), 5);
            case 'UNAVAILABLE':
              return this.html(reply, 503, this.loginForm(link, csrf, check, SIGNIN_MESSAGES.unavailable), 5);
            default:
              // Unknown account, wrong password, locked account: one answer (issue 10 §2).
              return this.html(reply, 200, this.loginForm(link, csrf, check, SIGNIN_MESSAGES.wrong));
          }
        }
        const sid = await this.sessions.createSession(result.memberId, result.epoch, { name: result.name });
        reply.header('set-cookie', this.sessions.sessionCookie(sid));
        return this.html(reply, 200, this.consentForm(link, csrf, check, result.name));
      }
      const session = await this.member(req);
      if (!session) return this.html(reply, 200, this.loginForm(link, csrf, check));
      if (action === 'deny') {
        return this.html(reply, 200, page('Authorization denied', `<h1>Authorization denied</h1><p class="error">You did not authorize <strong>${esc(check.app.title)}</strong>. You can close this page.</p>`));
      }
      if (action !== 'approve') return this.error(reply, 'Unknown action.');
      const approved = await this.runner.approve(link, session.memberId, String(req.id ?? '') || null);
      if (!approved.ok) return this.error(reply, approved.error);
      if (approved.redirect) {
        reply.code(302).header('location', approved.redirect).header('cache-control', 'no-store').send();
        return;
      }
      return this.html(
        reply,
        200,
        page('Authorized', `<h1>Done</h1><div class="ok">You authorized ${esc(check.app.title)}.</div><p>Go back to the application and complete the authorization there.</p>`),
      );
    } catch (err) {
      return this.failed(reply, 'consent form', err);
    }
  }

  /** The member's authorized applications, each with a Revoke button. */
  @Get('authorized')
  async authorized(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const session = await this.member(req);
      if (!session) return this.html(reply, 401, page('Authorized applications', '<h1>Authorized applications</h1><p>Sign in on a site of the network first.</p>'));
      const csrf = this.csrf(req, reply);
      const grants = await this.runner.memberGrants(session.memberId, String(req.id ?? '') || null);
      const rows = grants.length
        ? grants
            .map(
              (g) => `<li><strong>${esc(g.title)}</strong> (${esc(Object.entries(g.permissions).map(([a, l]) => `${a}: ${l}`).join(', '))})
<form name="fa" method="post" action="/apps/authorized/revoke"><input type="hidden" name="csrf" value="${esc(csrf)}"><input type="hidden" name="grant" value="${g.id}"><button type="submit">Revoke</button></form></li>`,
            )
            .join('\n')
        : '<li>None.</li>';
      return this.html(reply, 200, page('Authorized applications', `<h1>Authorized applications</h1><ul>${rows}</ul>`));
    } catch (err) {
      return this.failed(reply, 'authorized applications page', err);
    }
  }

  @Post('authorized/revoke')
  async revoke(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    try {
      const form = new Map<string, string>();
      if (typeof req.body === 'string') decodeForm(req.body, form);
      // The CSRF check first: it needs no store, and a forged form learns nothing else.
      if (!this.csrfOk(req, form.get('csrf'))) return this.error(reply, 'The form has expired. Open the page again.', 403);
      const session = await this.member(req);
      if (!session) return this.error(reply, 'The form has expired. Open the page again.', 403);
      const grant = Number(form.get('grant'));
      if (Number.isInteger(grant) && grant > 0) await this.runner.revokeGrant(session.memberId, grant, String(req.id ?? '') || null);
      reply.code(303).header('location', '/apps/authorized').header('cache-control', 'no-store').send();
    } catch (err) {
      return this.failed(reply, 'revoke', err);
    }
  }
}
