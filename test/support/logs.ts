/** The JSON lines a service of a test stack has logged so far (its file in the stack's logDir). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

export async function readServiceLog<T extends object>(logDir: string, service: string) {
  const text = await readFile(join(logDir, `${service}.log`), 'utf8').catch(() => '');
  return text.split('\n').flatMap((line) => {
    try {
      return [JSON.parse(line) as T];
    } catch {
      return [];
    }
  });
}
