/**
 * The spoken replies to voice messages, kept as files until they expire: `<id>.audio` and
 * `<id>.json` (type and expiry) under one directory. The id is the only key, since an <audio>
 * element fetches the reply without credentials, so it is 192 random bits; an id is matched
 * against a strict pattern before it comes near a path.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

export interface StoredReply {
  bytes: Uint8Array<ArrayBuffer>;
  mimeType: string;
  size: number;
  /** Epoch ms. */
  expiresAt: number;
}

export interface VoiceReplies {
  save(bytes: Uint8Array, mimeType: string): Promise<{ id: string; expiresAt: number }>;
  /** Null for an unknown, malformed or expired id alike. */
  open(id: string): Promise<StoredReply | null>;
  /** Deletes expired replies; returns how many. */
  sweep(): Promise<number>;
}

export interface VoiceRepliesOptions {
  dir: string;
  ttlMs: number;
  now?: () => number;
}

/** 24 random bytes in base64url. */
const ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;
const metadataSchema = z.object({ mimeType: z.string().min(1), expiresAt: z.number() });

export function createVoiceReplies({ dir, ttlMs, now = Date.now }: VoiceRepliesOptions) {
  const audioPath = (id: string) => join(dir, `${id}.audio`);
  const metadataPath = (id: string) => join(dir, `${id}.json`);

  const readMetadata = async (id: string) => {
    try {
      const parsed = metadataSchema.safeParse(JSON.parse(await readFile(metadataPath(id), 'utf8')));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  };

  const remove = (id: string) =>
    Promise.all(
      [audioPath(id), metadataPath(id), `${metadataPath(id)}.tmp`].map((path) =>
        rm(path, { force: true }),
      ),
    );

  const isExpired = async (id: string) => {
    const metadata = await readMetadata(id);
    if (metadata) return metadata.expiresAt <= now();
    // Audio without metadata is left by a crash between the two writes of `save`.
    const audio = await stat(audioPath(id)).catch(() => undefined);
    return !audio || audio.mtimeMs + ttlMs <= now();
  };

  const replies: VoiceReplies = {
    async save(bytes, mimeType) {
      const id = randomBytes(24).toString('base64url');
      const expiresAt = now() + ttlMs;
      await mkdir(dir, { recursive: true });
      await writeFile(audioPath(id), bytes, { flag: 'wx' });
      // The metadata appears whole or not at all, so `open` never sees a half-written reply.
      const temporary = `${metadataPath(id)}.tmp`;
      await writeFile(temporary, JSON.stringify({ mimeType, expiresAt }));
      await rename(temporary, metadataPath(id));
      return { id, expiresAt };
    },

    async open(id) {
      if (!ID_PATTERN.test(id)) return null;
      const metadata = await readMetadata(id);
      if (!metadata) return null;
      if (metadata.expiresAt <= now()) {
        await remove(id);
        return null;
      }
      const file = await readFile(audioPath(id)).catch(() => undefined);
      if (!file) return null;
      const bytes = new Uint8Array(file);
      return { bytes, size: bytes.length, ...metadata };
    },

    async sweep() {
      const names = await readdir(dir).catch((error: NodeJS.ErrnoException) => {
        if (error.code === 'ENOENT') return [];
        throw error;
      });
      const ids = new Set(names.map((name) => name.split('.')[0] ?? ''));
      let deleted = 0;
      for (const id of ids) {
        if (!ID_PATTERN.test(id) || !(await isExpired(id))) continue;
        await remove(id);
        deleted += 1;
      }
      return deleted;
    },
  };
  return replies;
}
