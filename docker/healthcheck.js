#!/usr/bin/env node
'use strict';

/**
 * Container health check: GET http://127.0.0.1:<port>/health/ready, exit 0 on 200 and 1 otherwise
 * (503, connection refused, timeout...). Used by the image's HEALTHCHECK and by docker-compose.yml,
 * so the runtime image needs no curl/wget.
 *
 * The port, in order of precedence:
 *   1. HEALTH_PORT;
 *   2. SERVICE (gateway | auth | admin | propagator): that service's own port variable
 *      (GATEWAY_PORT, AUTH_PORT, ...) when set, else its default, i.e. the port it listens on.
 * HEALTH_TIMEOUT_MS (default 3000) bounds the whole request; keep it below the HEALTHCHECK timeout.
 */

const http = require('node:http');

const DEFAULT_PORTS = { gateway: 3000, auth: 3001, admin: 3002, propagator: 3003 };

function fail(message) {
  process.stderr.write(`healthcheck: ${message}\n`);
  process.exit(1);
}

function resolvePort(env) {
  if (env.HEALTH_PORT) return env.HEALTH_PORT;
  const service = env.SERVICE;
  if (!service) fail('set HEALTH_PORT or SERVICE (gateway, auth, admin or propagator)');
  if (!Object.hasOwn(DEFAULT_PORTS, service)) fail(`SERVICE=${service} serves no health endpoint`);
  return env[`${service.toUpperCase()}_PORT`] || String(DEFAULT_PORTS[service]);
}

const rawPort = resolvePort(process.env);
const port = Number(rawPort);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`invalid port "${rawPort}"`);
const timeoutMs = Number(process.env.HEALTH_TIMEOUT_MS) || 3000;
const url = `http://127.0.0.1:${port}/health/ready`;

const req = http.get(url, { agent: false, headers: { accept: 'application/json' } }, (res) => {
  res.resume();
  if (res.statusCode === 200) process.exit(0);
  fail(`${url} answered ${res.statusCode}`);
});
req.on('error', (err) => fail(`${url}: ${err.message}`));
// One deadline for connect + response: a hung service must count as unhealthy, not block the check.
setTimeout(() => {
  req.destroy();
  fail(`${url}: no answer within ${timeoutMs} ms`);
}, timeoutMs).unref();
