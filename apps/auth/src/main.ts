import { loadConfigOrExit } from '@switchboard/config';
import { createServiceApp, listen } from '@switchboard/runtime';
import { AuthModule } from './app/auth.module';

async function main() {
  const config = loadConfigOrExit('auth');
  const app = await createServiceApp(AuthModule.forRoot(config), {
    bootLogging: { service: 'auth', level: config.LOG_LEVEL },
    docs: { title: 'Switchboard auth', description: 'Internal: IPS Connect actions, identity.' },
  });
  const url = await listen(app, config.AUTH_PORT, config.HOST);
  process.stdout.write(JSON.stringify({ level: 'info', service: 'auth', msg: `auth listening on ${url}` }) + '\n');
}

void main().catch((err) => {
  process.stderr.write(`switchboard auth: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
