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
const args = process.argv.slice(2).filter((arg) => arg !== '--readme');
const command = `npm run bench${args.length > 0 ? ` -- ${args.join(' ')}` : ''}`;
const header = `Measured ${new Date().toISOString().slice(0, 10)} with \`${command}\` (${minutes} min) on ${machine}.`;
console.log(header);

/*
 * A run of some benchmarks (--only) replaces their sections in results.json and README and keeps
 * the others, each of which says when it was measured; a run of all of them replaces everything.
 */
const partial = values.only !== undefined;
for (const section of sections) section.measured = header;
const previous = partial ? readPreviousSections() : [];
const merged = [
  ...previous.map((old) => sections.find((section) => section.key === old.key) ?? old),
  ...sections.filter((section) => !previous.some((old) => old.key === section.key)),
];
writeFileSync(
  'bench/results.json',
  `${JSON.stringify({ measuredAt: new Date().toISOString(), quick: values.quick, machine, sections: merged }, null, 2)}\n`,
);
if (values.readme) {
  const readme = readFileSync('README.md', 'utf8');
  const start = readme.indexOf(README_START) + README_START.length;
  const end = readme.indexOf(README_END);
  if (start < README_START.length || end < start) {
    throw new Error(`README.md has no ${README_START} … ${README_END}`);
  }
  const render = (section: BenchSection) => renderSection(section).replaceAll('### ', '#### ');
  let block = `\n${header}\n\n${sections.map(render).join('\n\n')}\n`;
  if (partial) {
    block = readme.slice(start, end);
    for (const section of sections) block = withSection(block, section, render(section));
  }
  writeFileSync('README.md', readme.slice(0, start) + block + readme.slice(end));
}

/** The README block with the section's table (and when it was measured) in place of its old one. */
function withSection(block: string, section: BenchSection, table: string): string {
  const text = `${table}\n\n${section.measured}\n`;
  const from = block.indexOf(`#### ${section.title}\n`);
  if (from < 0) return `${block.trimEnd()}\n\n${text}`;
  const next = block.indexOf('\n#### ', from + 1);
  return block.slice(0, from) + text + (next < 0 ? '' : block.slice(next));
}

function readPreviousSections(): BenchSection[] {
  try {
    return (JSON.parse(readFileSync('bench/results.json', 'utf8')) as { sections: BenchSection[] })
      .sections;
  } catch {
    return [];
  }
}
// LiveKit's native client keeps handles open after the last call has left.
process.exit(0);
