import { loadConfigOrExit } from '@switchboard/config';
import { createServiceApp, listen } from '@switchboard/runtime';
import { AdminModule } from './app/admin.module';

async function main() {
  const config = loadConfigOrExit('admin');
  const app = await createServiceApp(AdminModule.forRoot(config), {
    bootLogging: { service: 'admin', level: config.LOG_LEVEL },
    trustProxy: config.TRUST_PROXY,
    // The admin port is public: the OpenAPI document and its UI need the admin token like every route.
    docs: { title: 'Switchboard admin', description: 'Admin REST API (bearer ADMIN_TOKEN).', bearerTokens: [config.ADMIN_TOKEN] },
  });
  const url = await listen(app, config.ADMIN_PORT, config.HOST);
  process.stdout.write(JSON.stringify({ level: 'info', service: 'admin', msg: `admin listening on ${url}` }) + '\n');
}

void main().catch((err) => {
  process.stderr.write(`switchboard admin: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
