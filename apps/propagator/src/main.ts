import { loadConfigOrExit } from '@switchboard/config';
import { createServiceApp, listen } from '@switchboard/runtime';
import { PropagatorModule } from './app/propagator.module';

async function main() {
  const config = loadConfigOrExit('propagator');
  const app = await createServiceApp(PropagatorModule.forRoot(config), { bootLogging: { service: 'propagator', level: config.LOG_LEVEL } });
  const url = await listen(app, config.PROPAGATOR_PORT, config.HOST);
  process.stdout.write(JSON.stringify({ level: 'info', service: 'propagator', msg: `propagator listening on ${url}` }) + '\n');
}

void main().catch((err) => {
  process.stderr.write(`switchboard propagator: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
