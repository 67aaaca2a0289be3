// Preloaded into the bench's worker processes when BENCH_CPU_PROF_DIR is set (NODE_OPTIONS does not
// accept --cpu-prof). SIGUSR2 starts a CPU profile; the next SIGUSR2 writes it to
// <dir>/<pid>.cpuprofile (the bench profiles the throughput rounds this way).
const { Session } = require('node:inspector');
const { writeFileSync } = require('node:fs');
const { join } = require('node:path');

const session = new Session();
session.connect();
session.post('Profiler.enable');
let running = false;
process.on('SIGUSR2', () => {
  if (!running) {
    running = true;
    session.post('Profiler.start');
    return;
  }
  running = false;
  session.post('Profiler.stop', (err, result) => {
    if (!err) writeFileSync(join(process.env.BENCH_CPU_PROF_DIR, `${process.pid}.cpuprofile`), JSON.stringify(result.profile));
  });
});
