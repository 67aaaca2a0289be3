import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Applied, MemberState, signatureOf } from './verify';

/**
 * How a soak slave answers the master's propagation calls:
 * - `ok`: applies the change, answers `{"status":"SUCCESS"}`;
 * - `down`: its server is closed (connection refused), reopened on the same port afterwards;
 * - `slow`: applies the change and answers SUCCESS only after `slowMs` (longer than
 *   PROPAGATION_TIMEOUT: the master gives up and sends it again);
 * - `garbage`: applies nothing, answers a non-JSON body or an HTTP 500 page, alternately.
 */
export type Behaviour = 'ok' | 'down' | 'slow' | 'garbage';

const md5 = (s: string) => createHash('md5').update(s, 'utf8').digest('hex');

/**
 * The slave side of IPS Connect propagation (spec §2, §8) on a loopback port, for the soak: checks
 * `slaveCall=1` and the key (raw SK for `register`, md5(SK . id) otherwise), applies the change to
 * its own member records and logs every application in arrival order.
 */
export class SoakSlave {
  behaviour: Behaviour = 'ok';
  slowMs = 3000;
  port = 0;
  /** Every change applied here, in order: deliveries and the slave's own changes. */
  readonly log: Applied[] = [];
  /** Signatures of the changes delivered here (first application), for the soak's bookkeeping. */
  readonly got = new Set<string>();
  readonly members = new Map<number, MemberState>();
  /** Requests refused: wrong key, no slaveCall, unknown action (all should stay 0). */
  readonly refused = { badKey: 0, notSlaveCall: 0, unknownAction: 0 };
  requests = 0;
  private server?: http.Server;
  private garbageToggle = false;

  constructor(
    readonly index: number,
    readonly key: string,
  ) {}

  get url() {
    return `http://127.0.0.1:${this.port}/applications/core/interface/ipsconnect/ipsconnect.php`;
  }

  async start(): Promise<this> {
    const server = http.createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 4000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.port = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Closes the server and every open connection (the master sees refused connections). */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  get running() {
    return this.server !== undefined;
  }

  async setBehaviour(b: Behaviour): Promise<void> {
    if (b === 'down' && this.running) await this.stop();
    if (b !== 'down' && !this.running) await this.start();
    this.behaviour = b;
  }

  /** A change this slave made itself, applied locally once the master accepted it. */
  applyOwn(action: string, params: Record<string, string>) {
    const sig = signatureOf(action, params);
    this.apply(action, params);
    this.log.push({ sig, at: Date.now(), own: true });
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse) {
    this.requests++;
    const params: Record<string, string> = {};
    for (const [k, v] of new URL(req.url ?? '/', 'http://x').searchParams) params[k] = v;
    const action = params['do'] ?? '';
    const json = (status: string) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ status }));
    };
    if (params['slaveCall'] !== '1') {
      this.refused.notSlaveCall++;
      return json('REQUEST_MISSING_DATA');
    }
    const expected = action === 'register' ? this.key : md5(this.key + (params['id'] ?? ''));
    if (params['key'] !== expected) {
      this.refused.badKey++;
      return json('BAD_KEY');
    }
    if (!['register', 'changeEmail', 'changeName', 'changePassword', 'ban', 'delete', 'merge', 'validate'].includes(action)) {
      this.refused.unknownAction++;
      return json('INVALID_ACTION');
    }
    if (this.behaviour === 'garbage') {
      this.garbageToggle = !this.garbageToggle;
      if (this.garbageToggle) {
        res.end('<?php Fatal error: this is not json');
      } else {
        res.statusCode = 500;
        res.end('<html><body>Internal Server Error</body></html>');
      }
      return;
    }
    const sig = signatureOf(action, params);
    this.apply(action, params);
    this.log.push({ sig, at: Date.now() });
    this.got.add(sig);
    if (this.behaviour === 'slow') setTimeout(() => json('SUCCESS'), this.slowMs);
    else json('SUCCESS');
  }

  private apply(action: string, p: Record<string, string>) {
    const id = Number(p['id']);
    const m = this.members.get(id);
    switch (action) {
      case 'register':
        this.members.set(id, { name: p['name'], email: p['email'], passHash: p['pass_hash'], passSalt: p['pass_salt'], banned: false });
        return;
      case 'changeEmail':
        if (m) m.email = p['email'];
        return;
      case 'changeName':
        if (m) m.name = p['name'];
        return;
      case 'changePassword':
        if (m) {
          m.passHash = p['pass_hash'];
          m.passSalt = p['pass_salt'];
        }
        return;
      case 'ban':
        if (m) m.banned = p['status'] === '1';
        return;
      case 'delete':
        this.members.delete(id);
        return;
      case 'merge':
        this.members.delete(Number(p['remove']));
        return;
    }
  }
}
