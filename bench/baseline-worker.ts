/**
 * The baseline of `npm run bench:propagation`, in a process of its own as the propagator is: a raw
 * BullMQ worker whose job is one HTTP GET (the same request Switchboard sent to that slave, keep-alive,
 * same headers, same concurrency). No database, no bookkeeping. Args: redis URL, queue name, a JSON
 * file of request URLs (one per slave), concurrency.
 */
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import IORedis from 'ioredis';

const [redisUrl, queueName, urlsFile, concurrency] = process.argv.slice(2);
const urls = JSON.parse(readFileSync(urlsFile, 'utf8')) as string[];
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const headers = { 'user-agent': 'Switchboard IPS Connect master', accept: 'application/json' };

const worker = new Worker<{ slave: number; tag: string }>(
  queueName,
  (job) =>
    new Promise<void>((resolve, reject) => {
      http
        .get(`${urls[job.data.slave]}&tag=${job.data.tag}`, { agent, headers }, (res) => {
          res.resume();
          res.on('end', () => resolve());
        })
        .on('error', reject);
    }),
  { connection: new IORedis(redisUrl, { maxRetriesPerRequest: null }), concurrency: Number(concurrency) },
);
void worker.waitUntilReady().then(() => process.stdout.write('ready\n'));
process.on('SIGTERM', () => void worker.close().then(() => process.exit(0)));
