// Summarises a .cpuprofile (Chrome DevTools format, as bench/cpu-profile.cjs writes it): the frames
// with the most self time, and self time grouped by package / file. Usage: node bench/profile-top.cjs <file> [n]
const { readFileSync } = require('node:fs');

const profile = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const n = Number(process.argv[3] ?? 25);
const byId = new Map(profile.nodes.map((x) => [x.id, x]));
const self = new Map();
const dt = profile.timeDeltas ?? [];
for (let i = 0; i < profile.samples.length; i++) {
  const id = profile.samples[i];
  self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0));
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
const frames = new Map();
const groups = new Map();
for (const [id, us] of self) {
  const cf = byId.get(id).callFrame;
  const where = cf.url ? `${cf.url.replace(/^.*node_modules\//, '~/').replace(/^file:\/\/.*\/dist\//, 'dist/')}:${cf.lineNumber + 1}` : '';
  const key = `${cf.functionName || '(anonymous)'} ${where}`;
  frames.set(key, (frames.get(key) ?? 0) + us);
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(cf.url);
  const group = m ? m[1] : cf.url.includes('/dist/apps/') ? 'switchboard bundle (dist/apps)' : cf.url.startsWith('node:') ? 'node core' : cf.url ? cf.url : cf.functionName || '(vm)';
  groups.set(group, (groups.get(group) ?? 0) + us);
}
const pct = (us) => ((100 * us) / total).toFixed(1).padStart(5) + ' %';
console.log(`total sampled ${(total / 1000).toFixed(0)} ms`);
console.log('top self-time frames:');
for (const [k, us] of [...frames].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${pct(us)}  ${k}`);
console.log('self time by package / file:');
for (const [k, us] of [...groups].sort((a, b) => b[1] - a[1]).slice(0, 15)) console.log(`  ${pct(us)}  ${k}`);
