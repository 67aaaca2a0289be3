// Preloaded into the bench's worker processes when BENCH_CPU_PROF_DIR is set (NODE_OPTIONS does not
// accept --cpu-prof, and Nest re-raises SIGTERM, so --cpu-prof would not write anyway): profiles the
// process from its start and writes <dir>/<pid>.cpuprofile on SIGUSR2, which the bench sends after
// the throughput rounds. With BENCH_CPU_PROF_DEFER=1 the first SIGWINCH starts the profile and the
// second writes it (npm run bench profiles only its fetchSalt row that way; not SIGUSR2, on which a
// Nest app with shutdown hooks also shuts down, nor SIGUSR1, which opens the inspector).
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
session.post('Profiler.enable');
let running = false;
const start = () => {
  running = true;
  session.post('Profiler.start');
};
const deferred = process.env.BENCH_CPU_PROF_DEFER === '1';
if (!deferred) start();
process.on(deferred ? 'SIGWINCH' : 'SIGUSR2', () => {
  if (!running) return start();
  running = false;
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(join(process.env.BENCH_CPU_PROF_DIR, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
