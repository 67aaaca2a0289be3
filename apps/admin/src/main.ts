import { loadConfigOrExit } from '@switchboard/config';
import { ADMIN_API_DESCRIPTION, ADMIN_API_TITLE, AdminAuthenticator, adminOpenApiDocument } from '@switchboard/admin-api';
import { createServiceApp, listen } from '@switchboard/runtime';
import { AdminModule } from './app/admin.module';

async function main() {
  const config = loadConfigOrExit('admin');
  const app = await createServiceApp(AdminModule.forRoot(config), {
    bootLogging: { service: 'admin', level: config.LOG_LEVEL },
    trustProxy: config.TRUST_PROXY,
    // The admin port is public: the OpenAPI document and its UI need an admin token like every route
    // (the same authentication: named tokens, the failure limit and the audit).
    docs: {
      title: ADMIN_API_TITLE,
      description: ADMIN_API_DESCRIPTION,
      access: (app) => {
        const authenticator = app.get(AdminAuthenticator);
        return (request) => authenticator.allows(request as never);
      },
      document: adminOpenApiDocument,
    },
  });
  const url = await listen(app, config.ADMIN_PORT, config.HOST);
  process.stdout.write(JSON.stringify({ level: 'info', service: 'admin', msg: `admin listening on ${url}` }) + '\n');
}

void main().catch((err) => {
  process.stderr.write(`switchboard admin: failed to start: ${(err as Error).message}\n`);
  process.exit(1);
});
