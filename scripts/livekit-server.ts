/**
 * Finds or builds the pinned livekit-server: PATH first, then a cache directory, else it is built
 * with the Go toolchain (`go install`, ~3 minutes once) into that cache. Run directly, it prints
 * the binary's path.
 */
import { execFile } from 'node:child_process';
import { access, constants, mkdir, rename } from 'node:fs/promises';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';

export const LIVEKIT_VERSION = 'v1.13.5';
const run = promisify(execFile);

export function livekitCacheDir(env = process.env): string {
  const cacheHome = env.XDG_CACHE_HOME || join(homedir(), '.cache');
  return join(cacheHome, 'voice-agent-server', `livekit-${LIVEKIT_VERSION}`);
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

async function findOnPath(name: string, env = process.env): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, name);
    if (await isExecutable(candidate)) return candidate;
  }
  return undefined;
}

const HOW_ELSE =
  'Other ways to get livekit-server: `brew install livekit` (macOS), ' +
  '`curl -sSL https://get.livekit.io | bash` (Linux), or `docker compose up livekit` ' +
  'and LIVEKIT_URL=ws://127.0.0.1:7880.';

export async function ensureLivekitServer(log: (line: string) => void = console.error) {
  const onPath = await findOnPath('livekit-server');
  if (onPath) return onPath;
  const dir = livekitCacheDir();
  const cached = join(dir, 'livekit-server');
  if (await isExecutable(cached)) return cached;

  if (!(await findOnPath('go'))) {
    throw new Error(
      `livekit-server is not installed and Go is not available to build it. ${HOW_ELSE}`,
    );
  }
  log(
    `building livekit-server ${LIVEKIT_VERSION} with go install into ${dir} (once, a few minutes)`,
  );
  await mkdir(dir, { recursive: true });
  try {
    await run(
      'go',
      ['install', `github.com/livekit/livekit-server/cmd/server@${LIVEKIT_VERSION}`],
      { env: { ...process.env, GOBIN: dir, GOFLAGS: '-buildvcs=false' }, maxBuffer: 64 << 20 },
    );
  } catch (error) {
    const stderr = (error as { stderr?: string }).stderr ?? String(error);
    throw new Error(`go install of livekit-server failed:\n${stderr.slice(-2000)}\n${HOW_ELSE}`);
  }
  await rename(join(dir, 'server'), cached);
  return cached;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  ensureLivekitServer().then(
    (path) => console.log(path),
    (error: Error) => {
      console.error(error.message);
      process.exit(1);
    },
  );
}
