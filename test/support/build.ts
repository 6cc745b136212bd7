/**
 * Global setup of the e2e project: the stack runs the build (dist/ and the page's web/dist), never
 * the sources, so both are built from the current sources before the first test starts a stack.
 */
import { execFileSync } from 'node:child_process';
import { PROJECT_ROOT } from '../../common/paths.js';

export default function buildTheStack(): void {
  for (const script of ['build', 'web:build']) {
    execFileSync('npm', ['run', '--silent', script], { cwd: PROJECT_ROOT, stdio: 'inherit' });
  }
}
