// The Node flags every Switchboard service runs with: `npm start` (scripts/start.mjs) and the bench
// (bench/suite.ts) read this list; docker/Dockerfile sets the same in NODE_OPTIONS (a static check in
// e2e/src/compose.spec.ts holds the two equal).
//
// --max-old-space-size=512: under load the services promote request garbage into V8's old space
// (about 2-3 MB per scavenge at c=50). V8 picks how far the old space may grow before its next full
// collection as a factor of what the last one kept, and that factor's ceiling depends on the heap
// limit: 4 × on a host with more than ~16 GiB (the limit is then 2 GiB or more), 1.4 × with a
// 512 MiB limit. With the default a gateway that keeps ~40 MiB live sat at 300+ MiB of garbage under
// the benchmark; with 512 it stays under 200 MiB (BENCHMARKS.md, "Peak RSS"). 512 MiB is also a
// ceiling ~10 × above what any service keeps live, not a budget it works near.
module.exports = ['--enable-source-maps', '--max-old-space-size=512'];
