/**
 * The two baselines of `npm run bench`, in a process of their own (the load generator must not share
 * an event loop with the server it measures):
 *   GET /bare          → constant JSON, a bare Fastify route: the ceiling of any HTTP route here;
 *   GET /pg?email=…    → one prepared `pg` query (`pool.query({ name, text, values })`) on an indexed
 *                        members lookup (unique index on email_key): the practical limit of a read
 *                        that touches PostgreSQL.
 * Args: DATABASE_URL. Listens on 127.0.0.1 (a free port) and prints `{"port":…}` on stdout.
 */
import Fastify from 'fastify';
import { Pool } from 'pg';

async function main() {
  const pool = new Pool({ connectionString: process.argv[2], max: 10 });
  const app = Fastify({ logger: false });
  app.get('/bare', async () => ({ hello: 'world' }));
  app.get<{ Querystring: { email?: string } }>('/pg', async (req) => {
    const r = await pool.query({ name: 'bench-member-by-email', text: 'SELECT id, pass_salt FROM members WHERE email_key = $1', values: [String(req.query.email ?? '')] });
    return r.rows[0] ? { status: 'SUCCESS', pass_salt: r.rows[0].pass_salt } : { status: 'ACCOUNT_NOT_FOUND' };
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  process.stdout.write(JSON.stringify({ port: typeof address === 'object' && address ? address.port : 0 }) + '\n');
  const stop = () => void app.close().then(() => pool.end()).then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((err) => {
  process.stderr.write(`baselines server: ${(err as Error).message}\n`);
  process.exit(1);
});
