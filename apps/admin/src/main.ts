import { loadConfigOrExit } from '@switchboard/config';
import { createServiceApp, listen } from '@switchboard/runtime';
import { AdminModule, adminAppOptions } from './app/admin.module';

async function main() {
  const config = loadConfigOrExit('admin');
  const app = await createServiceApp(AdminModule.forRoot(config), {
    ...adminAppOptions(config),
    bootLogging: { service: 'admin', level: config.LOG_LEVEL },
  });
  const url = await listen(app, config.ADMIN_PORT, config.HOST);
  process.stdout.write(JSON.stringify({ level: 'info', service: 'admin', msg: `admin listening on ${url}` }) + '\n');
}

void main().catch((err) => {
  process.stderr.write(`switchboard admin: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
