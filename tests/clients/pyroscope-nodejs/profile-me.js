// Orac's real-client test program: @pyroscope/nodejs profiles this process (wall profiler at
// 100 Hz, with CPU time) while it spins in a function with a distinctive name, and pushes the
// profiles to the server named by ORAC_SERVER with the bearer token ORAC_TOKEN.
//
// Usage: ORAC_SERVER=http://127.0.0.1:PORT ORAC_TOKEN=orac_... node profile-me.js [SECONDS]
'use strict';

const Pyroscope = require('@pyroscope/nodejs').default;

const server = process.env.ORAC_SERVER;
const token = process.env.ORAC_TOKEN;
if (!server || !token) {
  console.error('profile-me.js: set ORAC_SERVER and ORAC_TOKEN');
  process.exit(2);
}

const seconds = Number(process.argv[2] || '3');

Pyroscope.init({
  serverAddress: server,
  authToken: token,
  appName: 'orac-node-client',
  tags: { region: 'orac-test-region' },
  flushIntervalMs: 1000,
  wall: { collectCpuTime: true },
});

// The function the test looks for in the stored profile; kept out of line by its size.
function oracDistinctiveBusyLoop(ms) {
  const end = Date.now() + ms;
  let x = 0;
  while (Date.now() < end) {
    for (let i = 0; i < 10000; i++) {
      x = (x * 1103515245 + 12345 + i) % 2147483647;
    }
  }
  return x;
}

async function main() {
  Pyroscope.startWallProfiling();
  const end = Date.now() + seconds * 1000;
  let sink = 0;
  while (Date.now() < end) {
    // Dynamic labels: the samples taken inside carry orac_phase=spin.
    Pyroscope.wrapWithLabels({ orac_phase: 'spin' }, () => {
      sink += oracDistinctiveBusyLoop(50);
    });
    // Let the profiler's flush timer run between bursts.
    await new Promise((resolve) => setImmediate(resolve));
  }
  // stop() exports the last profile and waits for the upload to finish.
  await Pyroscope.stopWallProfiling();
  console.log(`done ${sink % 10}`);
}

main().catch((e) => {
  console.error(`profile-me.js: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
