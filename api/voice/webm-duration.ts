/**
 * The duration of a WebM file from its block timestamps. Browsers' MediaRecorder writes WebM as a
 * live stream and never fills in the Duration element that metadata parsers (music-metadata,
 * MediaInfo) read, so the time of the last block is the only measure such a file has.
 *
 * EBML is read element by element: the masters below are entered (their size may be "unknown" in
 * a live stream), every other element is skipped by its size.
 */
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TIMESTAMP_SCALE = 0x2ad7b1;
const CLUSTER = 0x1f43b675;
const CLUSTER_TIMESTAMP = 0xe7;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const SIMPLE_BLOCK = 0xa3;
const ENTERED = new Set([SEGMENT, INFO, CLUSTER, BLOCK_GROUP]);
const DEFAULT_TIMESTAMP_SCALE_NS = 1_000_000;

interface Vint {
  value: number;
  length: number;
  /** All value bits set: a size the writer did not know. */
  unknown: boolean;
}

/** Milliseconds up to the last block's start; undefined when no block is found. */
export function webmDurationMs(bytes: Uint8Array): number | undefined {
  let scaleNs = DEFAULT_TIMESTAMP_SCALE_NS;
  let clusterTicks = 0;
  let lastTicks: number | undefined;
  let offset = 0;
  while (offset < bytes.length) {
    const id = readVint(bytes, offset, true);
    const size = id && readVint(bytes, offset + id.length, false);
    if (!id || !size) break;
    const body = offset + id.length + size.length;
    if (ENTERED.has(id.value)) {
      offset = body;
      continue;
    }
    if (size.unknown) break;
    const end = Math.min(body + size.value, bytes.length);
    if (id.value === TIMESTAMP_SCALE) scaleNs = readUint(bytes, body, end) || scaleNs;
    if (id.value === CLUSTER_TIMESTAMP) clusterTicks = readUint(bytes, body, end);
    if (id.value === BLOCK || id.value === SIMPLE_BLOCK) {
      // A block starts with its track number, then its time relative to the cluster (int16).
      const track = readVint(bytes, body, false);
      if (track && body + track.length + 2 <= end) {
        const high = bytes[body + track.length] ?? 0;
        const low = bytes[body + track.length + 1] ?? 0;
        const relative = (((high << 8) | low) << 16) >> 16;
        lastTicks = Math.max(lastTicks ?? 0, clusterTicks + relative);
      }
    }
    offset = body + size.value;
  }
  return lastTicks === undefined ? undefined : (lastTicks * scaleNs) / 1_000_000;
}

/** An EBML variable-length integer: IDs keep their length marker, sizes drop it. */
function readVint(bytes: Uint8Array, offset: number, keepMarker: boolean): Vint | undefined {
  const first = bytes[offset];
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (offset + length > bytes.length) return undefined;
  let value = keepMarker ? first : first & (0xff >> length);
  let unknown = value === 0xff >> length;
  for (let i = 1; i < length; i++) {
    const byte = bytes[offset + i] ?? 0;
    value = value * 256 + byte;
    unknown &&= byte === 0xff;
  }
  return { value, length, unknown: !keepMarker && unknown };
}

function readUint(bytes: Uint8Array, start: number, end: number): number {
  let value = 0;
  for (let i = start; i < end; i++) value = value * 256 + (bytes[i] ?? 0);
  return value;
}
