/**
 * The container setup as `docker compose up --build` runs it (no Docker engine is needed to check
 * this): each service's environment is the image's ENV with the service's own on top, and the API
 * and the worker must accept it, in the mode the compose file documents.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentConfigSchema } from '../../agent/config.js';
import { apiConfigSchema } from '../../api/config.js';
import { loadConfig } from '../../common/config.js';
import { PROJECT_ROOT } from '../../common/paths.js';

interface ComposeService {
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
}

const read = (file: string) => readFileSync(join(PROJECT_ROOT, file), 'utf8');
const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };

/** The ENV lines of the Dockerfile's last stage, the image the services run. */
function imageEnv(): Record<string, string> {
  const lastStage =
    read('Dockerfile')
      .split(/^FROM /m)
      .at(-1) ?? '';
  const pairs = [...lastStage.matchAll(/^ENV (\w+)=(\S+)$/gm)].map((m) => [m[1], m[2]]);
  return Object.fromEntries(pairs);
}

const serviceEnv = (name: string) => ({
  ...imageEnv(),
  ...compose.services[name]?.environment,
});

describe('docker compose', () => {
  it('starts the API and the worker with the configuration they accept', () => {
    expect(() => loadConfig(apiConfigSchema, serviceEnv('api'))).not.toThrow();
    expect(() => loadConfig(agentConfigSchema, serviceEnv('agent'))).not.toThrow();
  });

  it('runs in development mode, as README says', () => {
    expect(loadConfig(apiConfigSchema, serviceEnv('api')).NODE_ENV).toBe('development');
  });

  it('runs the compiled JavaScript the image builds, with plain node', () => {
    for (const name of ['api', 'agent']) {
      const [command, entry] = compose.services[name]?.command ?? [];
      expect(command).toBe('node');
      expect(entry).toMatch(/^dist\/.+\.js$/);
      const source = (entry ?? '').replace(/^dist\//, '').replace(/\.js$/, '.ts');
      expect(existsSync(join(PROJECT_ROOT, source)), `${source} compiles to ${entry}`).toBe(true);
    }
  });
});
