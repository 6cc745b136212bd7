import { mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createVoiceReplies } from './replies.js';

const TTL_MS = 60_000;
const audio = new Uint8Array([82, 73, 70, 70, 1, 2, 3, 4]);
let root: string;
let dir: string;
let clock: number;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'voice-replies-'));
  dir = join(root, 'voice');
  clock = Date.UTC(2030, 0, 1);
});
afterEach(() => rmSync(root, { recursive: true, force: true }));

const openReplies = () => createVoiceReplies({ dir, ttlMs: TTL_MS, now: () => clock });

describe('voice replies', () => {
  it('saves under an unguessable id and opens with type, size and expiry', async () => {
    const replies = openReplies();
    const saved = await replies.save(audio, 'audio/wav');
    expect(saved).toEqual({
      id: expect.stringMatching(/^[A-Za-z0-9_-]{32}$/),
      expiresAt: clock + TTL_MS,
    });
    expect(await replies.open(saved.id)).toEqual({
      bytes: audio,
      mimeType: 'audio/wav',
      size: audio.length,
      expiresAt: clock + TTL_MS,
    });
    const other = await replies.save(audio, 'audio/mpeg');
    expect(other.id).not.toBe(saved.id);
    expect((await replies.open(other.id))?.mimeType).toBe('audio/mpeg');
  });

  it('answers null for an expired reply and deletes its files', async () => {
    const replies = openReplies();
    const { id } = await replies.save(audio, 'audio/wav');
    clock += TTL_MS;
    expect(await replies.open(id)).toBeNull();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('sweeps expired replies and keeps the others', async () => {
    const replies = openReplies();
    const old = await replies.save(audio, 'audio/wav');
    clock += TTL_MS / 2;
    const recent = await replies.save(audio, 'audio/wav');
    clock += TTL_MS / 2;
    expect(await replies.sweep()).toBe(1);
    expect(readdirSync(dir).sort()).toEqual([`${recent.id}.audio`, `${recent.id}.json`]);
    expect(await replies.open(old.id)).toBeNull();
    expect(await replies.open(recent.id)).not.toBeNull();
  });

  it('sweeps audio a crash left without metadata once it is older than the lifetime', async () => {
    const replies = openReplies();
    await replies.save(audio, 'audio/wav');
    const orphan = 'A'.repeat(32);
    writeFileSync(join(dir, `${orphan}.audio`), audio);
    const mtime = new Date(clock - TTL_MS);
    utimesSync(join(dir, `${orphan}.audio`), mtime, mtime);
    writeFileSync(join(dir, 'not-a-reply.txt'), 'kept');
    expect(await replies.sweep()).toBe(1);
    expect(readdirSync(dir)).not.toContain(`${orphan}.audio`);
    expect(readdirSync(dir)).toContain('not-a-reply.txt');
  });

  it('sweeps nothing before the first save', async () => {
    expect(await openReplies().sweep()).toBe(0);
  });

  it.each([
    ['a parent path', '../x'],
    ['an encoded parent path', '%2e%2e'],
    ['an encoded traversal', '..%2f..%2fetc%2fpasswd'],
    ['a path into the directory', `voice/${'A'.repeat(32)}`],
    ['a very long id', 'A'.repeat(10_000)],
    ['a unicode id', 'ü'.repeat(32)],
    ['an id with a file suffix', `${'A'.repeat(32)}.json`],
    ['an empty id', ''],
    ['a well-formed unknown id', 'B'.repeat(32)],
  ])('answers null for %s', async (_name, id) => {
    const replies = openReplies();
    await replies.save(audio, 'audio/wav');
    // What `../x` would reach without the id check: a complete reply outside the directory.
    writeFileSync(
      join(root, 'x.json'),
      JSON.stringify({ mimeType: 'text/plain', expiresAt: 9e15 }),
    );
    writeFileSync(join(root, 'x.audio'), 'outside');
    expect(await replies.open(id)).toBeNull();
  });
});
