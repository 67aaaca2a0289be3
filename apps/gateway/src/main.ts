import { loadConfigOrExit } from '@switchboard/config';
import { createServiceApp, listen } from '@switchboard/runtime';
import { GatewayModule } from './app/gateway.module';

async function main() {
  const config = loadConfigOrExit('gateway');
  // No OpenAPI document on the public gateway: its protocols are documented in docs/ (hardening.md).
  const app = await createServiceApp(GatewayModule.forRoot(config), {
    bootLogging: { service: 'gateway', level: config.LOG_LEVEL },
    trustProxy: config.TRUST_PROXY,
  });
  const url = await listen(app, config.GATEWAY_PORT, config.HOST);
  process.stdout.write(JSON.stringify({ level: 'info', service: 'gateway', msg: `gateway listening on ${url}` }) + '\n');
}

void main().catch((err) => {
  process.stderr.write(`switchboard gateway: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
