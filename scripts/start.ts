/**
 * `npm start`: the whole stack on this machine with the default ports, and the call page served
 * from source on :5173. Reads `.env` when present.
 * Starts the bundled LiveKit server unless LIVEKIT_URL names another one. Ctrl-C stops everything,
 * once the agent worker has let running calls end (a second Ctrl-C does not wait); so does any one
 * process dying.
 */
import { existsSync } from 'node:fs';
import { portIsFree, startStack, WEB_DEV_PORT } from './stack.js';

if (existsSync('.env')) process.loadEnvFile('.env');

const port = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const localLivekit = !process.env.LIVEKIT_URL;
const ports = {
  livekit: 7880,
  livekitTcp: 7881,
  udp: [50000, 50100] as [number, number],
  api: port('API_PORT', 8000),
  agentHealth: port('AGENT_HEALTH_PORT', 8081),
};

// A port already taken (often by another `npm start`) would have its health check answered by
// whatever holds it: say so instead of starting half a stack.
const wanted = [
  ...(localLivekit ? [ports.livekit, ports.livekitTcp] : []),
  ports.api,
  ports.agentHealth,
  WEB_DEV_PORT,
];
const taken = (
  await Promise.all(wanted.map(async (p) => ((await portIsFree(p)) ? [] : [p])))
).flat();
if (taken.length > 0) {
  console.error(
    `[start  ] port ${taken.join(', ')} ${taken.length > 1 ? 'are' : 'is'} in use (another \`npm start\`?): stop what holds them, or set API_PORT / AGENT_HEALTH_PORT`,
  );
  process.exit(1);
}

const stack = await startStack({
  env: process.env,
  localLivekit,
  webDevServer: true,
  ports,
  onLog: (service, line) => console.log(`[${service.padEnd(7)}] ${line}`),
}).catch((error: Error) => {
  console.error(`[start  ] ${error.message}`);
  process.exit(1);
});

console.log(
  `[start  ] ready: open ${stack.webUrl} (API ${stack.apiUrl}, LiveKit ${stack.livekitUrl}). Ctrl-C stops.`,
);

let stopping = false;
const stopAll = async (exitCode: number) => {
  if (stopping) {
    console.log('[start  ] stopping now');
    await stack.stop({ force: true });
    process.exit(1);
  }
  stopping = true;
  console.log('[start  ] stopping: calls in progress may finish first. Ctrl-C again: stop now.');
  await stack.stop();
  process.exit(exitCode);
};
process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
stack.exited.then(({ service, code }) => {
  if (stopping) return;
  console.error(`[start  ] ${service} exited (code ${code}); stopping the rest`);
  void stopAll(1);
});
