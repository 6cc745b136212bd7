/**
 * `npm run bench [-- --quick] [--only voice,capacity,api,sse,chat,tools] [--readme]`: runs the
 * benchmarks one after another against the real stack with the provider test servers, prints
 * their tables, writes bench/results.json, and with --readme puts the tables in README.md.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { runApiBench } from './api.js';
import { runCapacityBench } from './capacity.js';
import { runChatBench } from './chat.js';
import { type BenchOptions, type BenchSection, renderSection } from './report.js';
import { runSseBench } from './sse.js';
import { runToolsBench } from './tools.js';
import { runVoiceBench } from './voice.js';

const BENCHES: Record<string, (options: BenchOptions) => Promise<BenchSection>> = {
  voice: runVoiceBench,
  capacity: runCapacityBench,
  api: runApiBench,
  sse: runSseBench,
  chat: runChatBench,
  tools: runToolsBench,
};
const README_START = '<!-- bench:start -->';
const README_END = '<!-- bench:end -->';

const { values } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    readme: { type: 'boolean', default: false },
  },
});
const names = values.only
  ? values.only.split(',').map((name) => name.trim())
  : Object.keys(BENCHES);
const unknown = names.filter((name) => !(name in BENCHES));
if (unknown.length > 0) {
  console.error(
    `unknown benchmark ${unknown.join(', ')}; choose from ${Object.keys(BENCHES).join(', ')}`,
  );
  process.exit(2);
}

const machine = `${cpus().length} × ${cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}, ${process.platform}`;
const startedAt = Date.now();
const sections: BenchSection[] = [];
for (const name of names) {
  const run = BENCHES[name] as (options: BenchOptions) => Promise<BenchSection>;
  const sectionStart = Date.now();
  console.error(`bench: ${name}${values.quick ? ' (quick)' : ''}…`);
  const section = await run({ quick: values.quick });
  sections.push(section);
  console.log(`\n${renderSection(section)}\n`);
  console.error(`bench: ${name} took ${Math.round((Date.now() - sectionStart) / 1000)} s`);
}

const minutes = ((Date.now() - startedAt) / 60_000).toFixed(1);
const header = `Measured ${new Date().toISOString().slice(0, 10)} with \`npm run bench${values.quick ? ' -- --quick' : ''}\` (${minutes} min) on ${machine}.`;
console.log(header);
writeFileSync(
  'bench/results.json',
  `${JSON.stringify({ measuredAt: new Date().toISOString(), quick: values.quick, machine, sections }, null, 2)}\n`,
);
if (values.readme) {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf(README_START);
  const end = readme.indexOf(README_END);
  if (start < 0 || end < start) throw new Error(`README.md has no ${README_START} … ${README_END}`);
  const tables = sections.map(renderSection).join('\n\n').replaceAll('### ', '#### ');
  writeFileSync(
    'README.md',
    `${readme.slice(0, start + README_START.length)}\n${header}\n\n${tables}\n${readme.slice(end)}`,
  );
}
// LiveKit's native client keeps handles open after the last call has left.
process.exit(0);
