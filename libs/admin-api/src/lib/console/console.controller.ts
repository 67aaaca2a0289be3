import { Controller, Get, NotFoundException, Param, Post, Req, Res, UnauthorizedException, UseFilters } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { ApiExcludeController } from '@nestjs/swagger';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { AuthClient } from '@switchboard/auth-client';
import {
  ADMIN_AUDIT_TYPES,
  DELIVERY_STATES,
  EVENT_TYPES,
  auditQuery,
  deliveriesQuery,
  disableSlaveAdminContract,
  disableSlaveCommand,
  enableSlaveContract,
  lockedMembersQuery,
  slavesQuery,
  unlockMemberContract,
} from '@switchboard/contracts';
import { parseBigId, parseId } from '@switchboard/input-rules';
import { relayed } from '../admin-commands.controllers';
import { AdminAuthenticator, AdminRequest, AuditWriter, TooManyFailedAuthentications, clearSessionCookie, sameOrigin } from '../admin-token.guard';
import { CONSOLE_COOKIE, CONSOLE_COOKIE_PATH, CONSOLE_MAX_S, ConsoleSession } from '../console-session';
import { decodeCursor, pageOf } from '../cursor';
import { DeliveryListRow, DeliveryQueries } from '../delivery-queries';
import { AuditListing, SlaveListing } from '../listings';
import { check } from '../problem';
import { PropagatorClient } from '../propagator-client';
import { ConsoleData, Readiness } from './console-data';
import { ConsoleErrorFilter, redirect, sendPage } from './console-page';
import { CONSOLE_BASE, CONSOLE_CSS, CONSOLE_ICON, Html, actionButton, href, html, page, when } from './html';

type Query = Record<string, unknown>;

/** Messages after an action (`?ok=<what>&n=<id>`): fixed words, the id checked as digits. */
const DONE: Record<string, (n: string) => string> = {
  disabled: (n) => `Slave ${n} is disabled: its pending deliveries are parked until it is enabled again.`,
  enabled: (n) => `Slave ${n} is enabled: its parked deliveries are back in line.`,
  'slave-retried': (n) => `Slave ${n}: its dead deliveries and the lines waiting out a backoff are being retried now.`,
  retried: (n) => `Delivery ${n} is being retried now.`,
  unlocked: (n) => `Member ${n} is unlocked.`,
  'signed-out': () => 'You have signed out.',
};

/** A query's flash message and the rest, without empty values (a form's blank fields). */
function split(query: unknown): { notice?: { kind: 'ok'; text: string }; rest: Query } {
  const rest: Query = { ...((query as Query) ?? {}) };
  const ok = rest['ok'];
  const n = rest['n'];
  delete rest['ok'];
  delete rest['n'];
  for (const [k, v] of Object.entries(rest)) if (v === '') delete rest[k];
  const done = typeof ok === 'string' && Object.prototype.hasOwnProperty.call(DONE, ok) ? DONE[ok] : undefined;
  const id = n === undefined ? '' : typeof n === 'string' && /^[1-9][0-9]{0,18}$/.test(n) ? n : null;
  return { notice: done && id !== null ? { kind: 'ok', text: done(id) } : undefined, rest };
}

/** A form body (application/x-www-form-urlencoded; anything else reads as no fields). */
function formOf(req: FastifyRequest): URLSearchParams {
  return typeof req.body === 'string' ? new URLSearchParams(req.body) : new URLSearchParams();
}
/** A field sent exactly once, or undefined. */
function field(form: URLSearchParams, name: string): string | undefined {
  const all = form.getAll(name);
  return all.length === 1 ? all[0] : undefined;
}

/** `datetime-local` values (`2025-01-31T12:00`, seconds optional), read as UTC. */
const toDate = (v: string) => new Date(`${v.length === 16 ? `${v}:00` : v}Z`);
const instantField = () =>
  z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/, 'must be a date and time such as 2025-01-31T12:00 (UTC)')
    // A day the month does not have (Date would roll 02-30 over into March) is not a date.
    .refine((v) => {
      const d = toDate(v);
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, v.length) === v;
    }, 'is not a valid date and time');
const consoleAuditQuery = auditQuery.extend({ since: instantField().optional(), until: instantField().optional() }).strict();
const consoleDeliveriesQuery = deliveriesQuery.extend({ status: z.enum([...DELIVERY_STATES, 'all']).optional() }).strict();

/** Suggestions for the audit's type filter (any type may be typed). */
const AUDIT_TYPES = [...new Set<string>([...EVENT_TYPES, ...ADMIN_AUDIT_TYPES])].sort();

const asAdmin = (req: FastifyRequest) => req as unknown as AdminRequest;
const count = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

function stateBadge(state: Readiness['state']): Html {
  const cls = state === 'ready' || state === 'connected' ? 'ok' : state === 'down' ? 'bad' : 'warn';
  return html`<span class="badge ${cls}">${state}</span>`;
}

/** A slave's health in one word: disabled, failing, dead letters, backlog, or healthy. */
function slaveHealth(s: { enabled: boolean; verified?: boolean; failing_since: string | null; dead: number; pending: number }): Html {
  // Registered by an admin, waiting for the forum's verifySettings with its key: not an admin's disable.
  if (s.verified === false) return html`<span class="badge warn">awaiting verifySettings</span>`;
  if (!s.enabled) return html`<span class="badge off">disabled</span>`;
  if (s.failing_since) return html`<span class="badge bad">failing</span> <span class="muted">since</span> ${when(s.failing_since)}`;
  if (s.dead > 0) return html`<span class="badge bad">${count(s.dead, 'dead delivery', 'dead deliveries')}</span>`;
  if (s.pending > 0) return html`<span class="badge warn">${s.pending} pending</span>`;
  return html`<span class="badge ok">healthy</span>`;
}

function deliveryBadge(status: string): Html {
  const cls = status === 'delivered' ? 'ok' : status === 'dead' ? 'bad' : status === 'discarded' || status === 'superseded' ? 'off' : 'warn';
  return html`<span class="badge ${cls}" data-status="${status}">${status}</span>`;
}

function pager(path: string, params: Query, next: string | null, label = 'Next page →'): Html {
  if (!next) return html``;
  const keep: Record<string, string> = {};
  for (const [k, v] of Object.entries(params)) if (typeof v === 'string' && k !== 'cursor') keep[k] = v;
  return html`<p class="pager"><a href="${href(path, { ...keep, cursor: next })}" rel="next">${label}</a></p>`;
}

function selectOptions(values: readonly (readonly [string, string])[], current: string | undefined): Html[] {
  return values.map(([value, label]) => html`<option value="${value}"${value === (current ?? '') ? html` selected` : ''}>${label}</option>`);
}

/**
 * The web console (issue 12): server-rendered pages under /admin/console, signed in with an admin
 * token (a session in Redis, see ConsoleSessions and docs/console.md). Every change goes through the
 * same paths as the admin API's routes (auth for slaves and members, the propagator for deliveries)
 * and is audited as `admin_action` with the token's name (AdminActionAudit). No script; CSP on
 * every page; every form carries the session's CSRF token and must come from this origin.
 */
@ApiExcludeController()
@UseFilters(ConsoleErrorFilter)
@Controller('admin/console')
export class ConsoleController {
  constructor(
    private readonly authenticator: AdminAuthenticator,
    private readonly data: ConsoleData,
    private readonly slaveListing: SlaveListing,
    private readonly auditListing: AuditListing,
    private readonly deliveries: DeliveryQueries,
    private readonly auth: AuthClient,
    private readonly propagator: PropagatorClient,
    private readonly audit: AuditWriter,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  // -------------------------------------------------------------------------------------------------
  // Plumbing

  /** Whether the queue dashboard is mounted (its link in the nav). */
  private queuesMounted(): boolean {
    const fastify = this.adapterHost.httpAdapter?.getInstance<FastifyInstance>();
    try {
      return !!fastify && (fastify.hasRoute({ method: 'GET', url: '/admin/queues' }) || fastify.hasRoute({ method: 'GET', url: '/admin/queues/' }));
    } catch {
      return false;
    }
  }

  /** The signed-in session of a page request, or a redirect to the sign-in page (null). */
  private async viewer(req: FastifyRequest, reply: FastifyReply): Promise<ConsoleSession | null> {
    const session = await this.authenticator.consoleSession(asAdmin(req));
    if (!session) redirect(reply, `${CONSOLE_BASE}/sign-in`);
    return session;
  }

  private show(reply: FastifyReply, session: ConsoleSession, options: { title: string; current: string; body: Html; notice?: { kind: 'ok' | 'error'; text: string } }, status = 200): void {
    sendPage(reply, status, page({ ...options, session: { name: session.name, csrf: session.csrf }, queues: this.queuesMounted() }));
  }

  /**
   * A console form: a live session (401 page otherwise), from this origin with the session's CSRF
   * token (403, audited, otherwise), then `run`, audited as an admin action, and a redirect (303).
   */
  private async act(req: FastifyRequest, reply: FastifyReply, run: (form: URLSearchParams) => Promise<string>): Promise<void> {
    const r = asAdmin(req);
    const session = await this.authenticator.consoleSession(r);
    if (!session) throw new UnauthorizedException('your console session has ended (signed out, idle for too long, or its token revoked); sign in again');
    const form = formOf(req);
    await this.authenticator.checkCrossSite(r, session, { formToken: field(form, '_csrf') ?? '', required: true });
    // AdminActionAudit records the action (token name, route, status) when the answer is sent.
    r.adminActor = { name: session.name, tokenId: session.tokenId };
    redirect(reply, await run(form));
  }

  // -------------------------------------------------------------------------------------------------
  // Sign-in and sign-out

  @Get('console.css')
  stylesheet(@Res() reply: FastifyReply) {
    void reply.code(200).headers({ 'content-type': 'text/css; charset=utf-8', 'cache-control': 'public, max-age=3600', 'x-content-type-options': 'nosniff' }).send(CONSOLE_CSS);
  }

  @Get('favicon.svg')
  icon(@Res() reply: FastifyReply) {
    void reply.code(200).headers({ 'content-type': 'image/svg+xml', 'cache-control': 'public, max-age=86400', 'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'" }).send(CONSOLE_ICON);
  }

  private signInPage(reply: FastifyReply, status: number, notice?: { kind: 'ok' | 'error'; text: string }, headers: Record<string, string> = {}) {
    sendPage(
      reply,
      status,
      page({
        title: 'Sign in',
        notice,
        body: html`<form class="signin" method="post" action="${CONSOLE_BASE}/sign-in">
<p>Sign in with an admin token: the bootstrap <code>ADMIN_TOKEN</code> or a named token (<code>sbat_…</code>, from <code>POST /admin/tokens</code> or the CLI). Every action is recorded in the audit under the token's name.</p>
<label for="token">Admin token</label>
<input type="password" id="token" name="token" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>`,
      }),
      headers,
    );
  }

  @Get('sign-in')
  async signInForm(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const { notice } = split(req.query);
    if (await this.authenticator.consoleSession(asAdmin(req))) return redirect(reply, CONSOLE_BASE);
    this.signInPage(reply, 200, notice);
  }

  @Post('sign-in')
  async signIn(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const r = asAdmin(req);
    if (!sameOrigin(r)) {
      await this.audit.record('admin_csrf_refused', { reason: 'origin', token_name: null, token_id: null, method: 'POST', route: `${CONSOLE_BASE}/sign-in`, address: r.ip || 'unknown', request_id: String(req.id) });
      return this.signInPage(reply, 403, { kind: 'error', text: 'Refused: the sign-in form must be sent from this site.' });
    }
    const token = (field(formOf(req), 'token') ?? '').trim();
    let signedIn;
    try {
      signedIn = await this.authenticator.signIn(r, token);
    } catch (err) {
      if (err instanceof UnauthorizedException) return this.signInPage(reply, 401, { kind: 'error', text: 'That token is not a valid admin token (or it has been revoked).' });
      if (err instanceof TooManyFailedAuthentications) {
        return this.signInPage(reply, 429, { kind: 'error', text: `Too many failed sign-ins from your address. Try again in ${err.retryAfter} s.` }, { 'retry-after': String(err.retryAfter) });
      }
      throw err;
    }
    // A session already held by this browser ends (one session per cookie).
    const previous = await this.authenticator.sessionOf(r).catch(() => null);
    if (previous) await this.authenticator.signOut(previous).catch(() => undefined);
    r.adminActor = signedIn.actor;
    const secure = req.protocol === 'https' ? '; Secure' : '';
    redirect(reply, CONSOLE_BASE, { 'set-cookie': `${CONSOLE_COOKIE}=${signedIn.session.id}; Path=${CONSOLE_COOKIE_PATH}; Max-Age=${CONSOLE_MAX_S}; HttpOnly; SameSite=Strict${secure}` });
  }

  @Post('sign-out')
  async signOut(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const r = asAdmin(req);
    const session = await this.authenticator.consoleSession(r);
    const clear = clearSessionCookie(req.protocol === 'https');
    if (!session) return redirect(reply, `${CONSOLE_BASE}/sign-in`, { 'set-cookie': clear });
    await this.authenticator.checkCrossSite(r, session, { formToken: field(formOf(req), '_csrf') ?? '', required: true });
    r.adminActor = { name: session.name, tokenId: session.tokenId };
    await this.authenticator.signOut(session);
    redirect(reply, href(`${CONSOLE_BASE}/sign-in`, { ok: 'signed-out' }), { 'set-cookie': clear });
  }

  // -------------------------------------------------------------------------------------------------
  // Overview

  @Get()
  async overview(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const session = await this.viewer(req, reply);
    if (!session) return;
    const o = await this.data.overview();
    const card = (n: number | string, label: string, cls = '', link?: string) =>
      html`<div class="card ${cls}" data-card="${label}"><div class="n">${link ? html`<a href="${link}">${n}</a>` : n}</div><div class="l">${label}</div></div>`;
    const body = html`<section class="cards" aria-label="Counts">
${card(o.members, 'members')}
${card(`${o.slaves.enabled} / ${o.slaves.total}`, 'slaves enabled', '', `${CONSOLE_BASE}/slaves`)}
${card(o.deliveries.pending, 'deliveries pending', o.deliveries.pending > 0 ? 'warn' : '', href(`${CONSOLE_BASE}/deliveries`, { status: 'all' }))}
${card(o.deliveries.dead, 'dead deliveries', o.deliveries.dead > 0 ? 'bad' : '', `${CONSOLE_BASE}/deliveries`)}
${card(o.failing.length, 'failing slaves', o.failing.length > 0 ? 'bad' : '', `${CONSOLE_BASE}/slaves`)}
${card(o.lockouts24h, 'locked in 24 h', o.lockouts24h > 0 ? 'warn' : '', `${CONSOLE_BASE}/lockouts`)}
${card(o.lockedNow ?? '?', 'locked now', (o.lockedNow ?? 0) > 0 ? 'warn' : '', `${CONSOLE_BASE}/lockouts`)}
${card(o.adminFailures24h, 'failed admin sign-ins in 24 h', o.adminFailures24h > 0 ? 'warn' : '', href(`${CONSOLE_BASE}/audit`, { type: 'admin_authn_fail' }))}
</section>
<h2>Services</h2>
<table id="readiness"><thead><tr><th>Service</th><th>State</th><th>Detail</th></tr></thead><tbody>
${o.readiness.map((r) => html`<tr data-service="${r.service}"><td>${r.service}</td><td>${stateBadge(r.state)}</td><td>${r.detail}</td></tr>`)}
</tbody></table>
<h2>Failing slaves</h2>
${
  o.failing.length
    ? html`<table id="failing"><thead><tr><th>Slave</th><th>URL</th><th>Health</th><th>Dead</th><th>Pending</th><th></th></tr></thead><tbody>
${o.failing.map(
  (s) => html`<tr data-slave="${s.id}"><td>${s.id}</td><td class="url">${s.url}</td><td>${slaveHealth(s)}</td><td>${s.dead}</td><td>${s.pending}</td><td><a href="${href(`${CONSOLE_BASE}/deliveries`, { slave_id: s.id, status: 'dead' })}">Dead deliveries</a></td></tr>`,
)}
</tbody></table>`
    : html`<p class="muted" id="failing">No slave is failing.</p>`
}`;
    this.show(reply, session, { title: 'Overview', current: '', body });
  }

  // -------------------------------------------------------------------------------------------------
  // Slaves

  @Get('slaves')
  async slaves(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const session = await this.viewer(req, reply);
    if (!session) return;
    const { notice, rest } = split(req.query);
    const query = check(slavesQuery, rest);
    const { items, next_cursor } = await this.slaveListing.page(query);
    const csrf = session.csrf;
    const body = html`<form class="filters" method="get" action="${CONSOLE_BASE}/slaves">
<label>State<select name="enabled">${selectOptions([['', 'all'], ['true', 'enabled'], ['false', 'disabled']], typeof rest['enabled'] === 'string' ? rest['enabled'] : undefined)}</select></label>
<button type="submit">Filter</button></form>
${
  items.length
    ? html`<table id="slaves"><thead><tr><th>ID</th><th>URL</th><th>Health</th><th>Last access</th><th>Last delivery</th><th>Pending</th><th>Dead</th><th>Actions</th></tr></thead><tbody>
${items.map(
  (s) => html`<tr data-slave="${s.id}"><td>${s.id}</td><td class="url">${s.url}${s.disabled_reason ? html`<br><span class="muted">disabled: ${s.disabled_reason}</span>` : ''}</td><td>${slaveHealth(s)}</td><td>${when(s.last_access_at)}</td><td>${when(s.last_success_at)}</td><td>${s.pending}</td><td>${
    s.dead > 0 ? html`<a href="${href(`${CONSOLE_BASE}/deliveries`, { slave_id: s.id, status: 'dead' })}">${s.dead}</a>` : s.dead
  }</td><td>${
    !s.verified
      ? html`<span class="muted">enabled by the forum's verifySettings with its key</span>`
      : s.enabled
      ? actionButton(`${CONSOLE_BASE}/slaves/${s.id}/disable`, 'Disable', csrf, { danger: true, testId: 'disable', extra: html`<input type="text" class="reason" name="reason" maxlength="200" placeholder="reason (optional)" aria-label="reason">` })
      : actionButton(`${CONSOLE_BASE}/slaves/${s.id}/enable`, 'Enable', csrf, { testId: 'enable' })
  }${s.dead > 0 || s.failing_since ? actionButton(`${CONSOLE_BASE}/slaves/${s.id}/retry`, 'Retry now', csrf, { testId: 'retry-slave' }) : ''}</td></tr>`,
)}
</tbody></table>`
    : html`<p class="muted">No slaves.</p>`
}
${pager(`${CONSOLE_BASE}/slaves`, rest, next_cursor)}`;
    this.show(reply, session, { title: 'Slaves', current: '/slaves', body, notice });
  }

  @Post('slaves/:id/disable')
  disable(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.act(req, reply, async (form) => {
      if (parseId(id) === null) throw new NotFoundException('no such slave');
      const reason = (field(form, 'reason') ?? '').trim();
      const body = check(disableSlaveCommand, reason ? { reason } : {});
      await relayed(this.auth.admin(disableSlaveAdminContract, { params: { id }, body }));
      return href(`${CONSOLE_BASE}/slaves`, { ok: 'disabled', n: id });
    });
  }

  @Post('slaves/:id/enable')
  enable(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.act(req, reply, async () => {
      if (parseId(id) === null) throw new NotFoundException('no such slave');
      await relayed(this.auth.admin(enableSlaveContract, { params: { id } }));
      return href(`${CONSOLE_BASE}/slaves`, { ok: 'enabled', n: id });
    });
  }

  @Post('slaves/:id/retry')
  retrySlave(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.act(req, reply, async () => {
      if (parseId(id) === null) throw new NotFoundException('no such slave');
      await relayed(this.propagator.retrySlave(id, String(req.id)));
      return href(`${CONSOLE_BASE}/slaves`, { ok: 'slave-retried', n: id });
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Deliveries

  private retryButton(d: { id: string; status: string }, csrf: string, back: 'list' | 'detail'): Html | '' {
    if (!['dead', 'waiting', 'ready'].includes(d.status)) return '';
    return actionButton(`${CONSOLE_BASE}/deliveries/${d.id}/retry`, 'Retry', csrf, { testId: 'retry', extra: html`<input type="hidden" name="back" value="${back}">` });
  }

  @Get('deliveries')
  async deliveryList(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const session = await this.viewer(req, reply);
    if (!session) return;
    const { notice, rest } = split(req.query);
    const query = check(consoleDeliveriesQuery, rest);
    const status = query.status ?? 'dead';
    const limit = query.limit ?? 100;
    const rows = await this.deliveries.list({ status: status === 'all' ? undefined : status, slaveId: query.slave_id, memberId: query.member_id, before: decodeCursor('deliveries', query.cursor) }, limit);
    const { items, next_cursor } = pageOf('deliveries', rows, limit, (d) => d.id, (d) => d);
    const statuses = [...DELIVERY_STATES.map((s) => [s, s] as const), ['all', 'any state'] as const];
    const body = html`<form class="filters" method="get" action="${CONSOLE_BASE}/deliveries">
<label>Status<select name="status">${selectOptions(statuses, status)}</select></label>
<label>Slave<input type="number" name="slave_id" min="1" value="${query.slave_id ?? ''}"></label>
<label>Member<input type="number" name="member_id" min="1" value="${query.member_id ?? ''}"></label>
<button type="submit">Filter</button></form>
${
  items.length
    ? html`<table id="deliveries"><thead><tr><th>ID</th><th>Slave</th><th>Member</th><th>Action</th><th>Status</th><th>Attempts</th><th>Last error</th><th>Created</th><th>Finished</th><th></th></tr></thead><tbody>
${items.map((d: DeliveryListRow) => {
  const id = String(d.id);
  return html`<tr data-delivery="${id}"><td><a href="${CONSOLE_BASE}/deliveries/${id}">${id}</a></td><td>${d.slave_id}</td><td>${d.member_id}</td><td>${d.action}</td><td>${deliveryBadge(d.status)}</td><td>${d.attempts}</td><td>${d.last_error ?? ''}</td><td>${when(d.created_at)}</td><td>${when(d.finished_at)}</td><td>${this.retryButton({ id, status: d.status }, session.csrf, 'list')}</td></tr>`;
})}
</tbody></table>`
    : html`<p class="muted">${status === 'dead' ? 'No dead deliveries.' : 'No deliveries.'}</p>`
}
${pager(`${CONSOLE_BASE}/deliveries`, rest, next_cursor, 'Older →')}`;
    this.show(reply, session, { title: status === 'dead' ? 'Dead deliveries' : 'Deliveries', current: '/deliveries', body, notice });
  }

  @Get('deliveries/:id')
  async deliveryDetail(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const session = await this.viewer(req, reply);
    if (!session) return;
    const { notice } = split(req.query);
    const found = parseBigId(id) === null ? null : await this.deliveries.get(id);
    if (!found) throw new NotFoundException('no such delivery');
    const d = found.delivery;
    const body = html`<dl class="facts" id="delivery" data-status="${d.status}">
<dt>Status</dt><dd>${deliveryBadge(d.status)}</dd>
<dt>Slave</dt><dd><a href="${href(`${CONSOLE_BASE}/deliveries`, { slave_id: d.slave_id, status: 'all' })}">${d.slave_id}</a></dd>
<dt>Member</dt><dd>${d.member_id}</dd>
<dt>Action</dt><dd>${d.action}</dd>
<dt>Attempts</dt><dd>${d.attempts}</dd>
<dt>Next attempt</dt><dd>${when(d.next_attempt_at)}</dd>
<dt>Last error</dt><dd>${d.last_error ?? '—'}</dd>
<dt>Created</dt><dd>${when(d.created_at)}</dd>
<dt>Finished</dt><dd>${when(d.finished_at)}</dd>
<dt>Event</dt><dd><code>${d.event_id}</code></dd>
</dl>
<p>${this.retryButton({ id: String(d.id), status: d.status }, session.csrf, 'detail')}</p>
<h2>Attempts</h2>
${
  found.attempts.length
    ? html`<table id="attempts"><thead><tr><th>At</th><th>Duration</th><th>HTTP</th><th>IPS status</th><th>Error</th><th>Outcome</th></tr></thead><tbody>
${found.attempts.map((a) => html`<tr><td>${when(a.attempted_at)}</td><td>${a.duration_ms} ms</td><td>${a.http_status ?? ''}</td><td>${a.ips_status ?? ''}</td><td>${a.error ?? ''}</td><td>${a.outcome}</td></tr>`)}
</tbody></table>`
    : html`<p class="muted">No attempt yet.</p>`
}`;
    this.show(reply, session, { title: `Delivery ${String(d.id)}`, current: '/deliveries', body, notice });
  }

  @Post('deliveries/:id/retry')
  retry(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.act(req, reply, async (form) => {
      if (parseBigId(id) === null) throw new NotFoundException('no such delivery');
      await relayed(this.propagator.retryDelivery(id, String(req.id)));
      return field(form, 'back') === 'detail' ? href(`${CONSOLE_BASE}/deliveries/${id}`, { ok: 'retried', n: id }) : href(`${CONSOLE_BASE}/deliveries`, { ok: 'retried', n: id });
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Lockouts

  @Get('lockouts')
  async lockouts(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const session = await this.viewer(req, reply);
    if (!session) return;
    const { notice, rest } = split(req.query);
    const query = check(lockedMembersQuery, rest);
    const after = Number(decodeCursor('locked', query.cursor) ?? 0);
    const rows = (await this.data.lockedMembers()).filter((m) => m.id > after);
    const { items, next_cursor } = pageOf('locked', rows, query.limit, (m) => m.id, (m) => m);
    const body = html`<p class="muted">Members whose login is locked now by the brute-force protection (wrong passwords on IPS logins or the consent page). A lock ends by itself; Unlock ends it now and clears the failure count.</p>
${
  items.length
    ? html`<table id="lockouts"><thead><tr><th>Member</th><th>Name</th><th>E-mail</th><th>Locked until</th><th>Failed logins</th><th></th></tr></thead><tbody>
${items.map(
  (m) => html`<tr data-member="${m.id}"><td>${m.id}</td><td>${m.name}</td><td>${m.email}</td><td>${when(m.locked_until)}</td><td>${m.failed_logins}</td><td>${actionButton(`${CONSOLE_BASE}/members/${m.id}/unlock`, 'Unlock', session.csrf, { testId: 'unlock' })}</td></tr>`,
)}
</tbody></table>`
    : html`<p class="muted" id="lockouts">No member is locked out.</p>`
}
${pager(`${CONSOLE_BASE}/lockouts`, rest, next_cursor)}`;
    this.show(reply, session, { title: 'Lockouts', current: '/lockouts', body, notice });
  }

  @Post('members/:id/unlock')
  unlock(@Param('id') id: string, @Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    return this.act(req, reply, async () => {
      if (parseId(id) === null) throw new NotFoundException('no such member');
      await relayed(this.auth.admin(unlockMemberContract, { params: { id } }));
      return href(`${CONSOLE_BASE}/lockouts`, { ok: 'unlocked', n: id });
    });
  }

  // -------------------------------------------------------------------------------------------------
  // Audit

  @Get('audit')
  async auditLog(@Req() req: FastifyRequest, @Res() reply: FastifyReply) {
    const session = await this.viewer(req, reply);
    if (!session) return;
    const { notice, rest } = split(req.query);
    const query = check(consoleAuditQuery, rest);
    const since = query.since ? toDate(query.since) : undefined;
    const until = query.until ? toDate(query.until) : undefined;
    const { items, next_cursor } = await this.auditListing.page({ ...query, since, until, limit: query.limit ?? 50 });
    // Each detail as `key value` (values over 200 characters cut), at most 16.
    const details = (d: unknown): Html[] => {
      const cut = (text: string) => (text.length > 200 ? `${text.slice(0, 200)}…` : text);
      const entries = d && typeof d === 'object' && !Array.isArray(d) ? Object.entries(d as Record<string, unknown>) : [['value', d] as [string, unknown]];
      return entries
        .filter(([, v]) => v !== null && v !== undefined)
        .slice(0, 16)
        .map(([k, v]) => html`<span class="kv"><span class="k">${k}</span> <code>${cut(typeof v === 'string' ? v : JSON.stringify(v))}</code></span>`);
    };
    const body = html`<form class="filters" method="get" action="${CONSOLE_BASE}/audit">
<label>Type<input type="text" name="type" list="audit-types" value="${query.type ?? ''}" pattern="[a-z_]{1,64}" placeholder="any"></label>
<datalist id="audit-types">${AUDIT_TYPES.map((t) => html`<option value="${t}"></option>`)}</datalist>
<label>Slave<input type="number" name="slave_id" min="1" value="${query.slave_id ?? ''}"></label>
<label>Member<input type="number" name="member_id" min="1" value="${query.member_id ?? ''}"></label>
<label>From (UTC)<input type="datetime-local" name="since" value="${query.since ?? ''}"></label>
<label>Until (UTC)<input type="datetime-local" name="until" value="${query.until ?? ''}"></label>
<button type="submit">Filter</button></form>
${
  items.length
    ? html`<table id="audit"><thead><tr><th>ID</th><th>Time</th><th>Type</th><th>Source</th><th>Slave</th><th>Member</th><th>Details</th></tr></thead><tbody>
${items.map(
  (a) => html`<tr data-type="${a.type}"><td>${a.id}</td><td>${when(a.occurred_at)}</td><td>${a.type}</td><td>${a.source}</td><td>${a.slave_id ?? ''}</td><td>${a.member_id ?? ''}</td><td class="details">${details(a.details)}</td></tr>`,
)}
</tbody></table>`
    : html`<p class="muted" id="audit">No audit entries match.</p>`
}
${pager(`${CONSOLE_BASE}/audit`, rest, next_cursor, 'Older entries →')}`;
    this.show(reply, session, { title: 'Audit', current: '/audit', body, notice });
  }
}
