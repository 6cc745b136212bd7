/**
 * Where the project is on disk, the same whether a module runs from source (tests) or compiled to
 * dist/ (the API, the worker, scripts and benchmarks, built by `npm run build`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file is common/paths.ts, or dist/common/paths.js once compiled.
const compiled = import.meta.url.endsWith('.js');
export const PROJECT_ROOT = fileURLToPath(new URL(compiled ? '../..' : '..', import.meta.url));

/** Where `npm run build` puts the compiled JavaScript. */
export const BUILD_DIR = join(PROJECT_ROOT, 'dist');

export const PROJECT_VERSION: string = JSON.parse(
  readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8'),
).version;
