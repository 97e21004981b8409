/**
 * Gzip decoding member by member (RFC 1952), for files and streams alike.
 *
 * zlib's gunzip stream fails the whole read on bytes after the last member (trailing garbage: a
 * copy padded or cut by a transfer tool, a writer that appended to a rotated file), and the output
 * of the write that met them is dropped with the error, which for a small file is all of it. gzip(1)
 * decompresses such a file and warns. So each member's header is read here and its deflate data
 * goes to a raw inflater, which stops at the member's end and tells how much input it consumed;
 * what follows is the 8-byte trailer, then another member, NUL padding (accepted, as zlib and
 * gzip(1) do) or garbage, which ends the input with one warning.
 */
import zlib from 'node:zlib';

const EMPTY = Buffer.alloc(0);
/** Longest file name or comment accepted in a member header. */
const MAX_FIELD = 64 * 1024;

/** Carries zlib's error codes, so that describeError() words it like any zlib error. */
function gzipError(code: 'Z_DATA_ERROR' | 'Z_BUF_ERROR', message: string): Error {
  return Object.assign(new Error(message), { code });
}

/**
 * Length of the member header at the start of `b`, or 0 while more bytes are needed. Throws when
 * the bytes are not a gzip header.
 */
function headerLength(b: Buffer): number {
  if (b.length >= 2 && (b[0] !== 0x1f || b[1] !== 0x8b)) throw gzipError('Z_DATA_ERROR', 'incorrect header check');
  if (b.length < 10) return 0;
  if (b[2] !== 8) throw gzipError('Z_DATA_ERROR', 'unknown compression method');
  const flags = b[3];
  if (flags & 0xe0) throw gzipError('Z_DATA_ERROR', 'unknown header flags set');
  let p = 10;
  if (flags & 4) {
    if (b.length < p + 2) return 0;
    p += 2 + b.readUInt16LE(p);
  }
  // File name, then comment: each ends with a NUL. gzip(1) writes a name of at most a path's
  // length; one that does not end within MAX_FIELD bytes is no gzip header (and must not make
  // klogscan hold and search the rest of the input).
  for (const bit of [8, 16]) {
    if (!(flags & bit)) continue;
    const nul = b.indexOf(0, p);
    if (nul < 0) {
      if (b.length - p > MAX_FIELD) throw gzipError('Z_DATA_ERROR', 'header field too long');
      return 0;
    }
    p = nul + 1;
  }
  if (flags & 2) p += 2;
  return b.length >= p ? p : 0;
}

/** zlib.crc32 came with Node 20.15; without it the length check and the deflate data's own checks remain. */
const crc32 = (zlib as { crc32?: (data: Buffer, value?: number) => number }).crc32;

/**
 * Decompresses `input` (gzip members, one after another). `onGarbage` is called once when bytes
 * that are no gzip member follow a complete member; they are not read further.
 */
export async function* gunzipMembers(input: AsyncIterable<Buffer>, onGarbage: () => void): AsyncGenerator<Buffer> {
  const it = input[Symbol.asyncIterator]();
  /** Input read but not consumed yet. */
  let buf: Buffer = EMPTY;
  const more = async (): Promise<boolean> => {
    const r = await it.next();
    if (r.done) return false;
    buf = buf.length > 0 ? Buffer.concat([buf, r.value]) : r.value;
    return true;
  };
  try {
    for (let members = 0; ; members++) {
      if (members > 0) {
        for (;;) {
          let i = 0;
          while (i < buf.length && buf[i] === 0) i++;
          buf = buf.subarray(i);
          if (buf.length > 0 || !(await more())) break;
        }
        if (buf.length === 0) return;
      }
      let header = 0;
      try {
        while ((header = headerLength(buf)) === 0) {
          if (!(await more())) throw gzipError('Z_BUF_ERROR', 'unexpected end of file');
        }
      } catch (e) {
        // After a complete member, whatever is not another member (bytes that are no header, or
        // too few to be one) is trailing garbage, as gzip(1) says.
        // An error of the read itself (EIO) is no garbage.
        const code = (e as { code?: string }).code;
        if (members === 0 || (code !== 'Z_DATA_ERROR' && code !== 'Z_BUF_ERROR')) throw e;
        onGarbage();
        return;
      }
      buf = buf.subarray(header);

      // The deflate data: written piece by piece while its output is read, so that the inflater's
      // own buffer limit holds back a member that inflates to gigabytes.
      // Output in 1 MiB pieces: with zlib's default 16 KiB, the round trips between the thread
      // pool and the main thread, not inflating, took most of the time (1 GiB: 4.3 s -> 1.3 s).
      const inflater = zlib.createInflateRaw({ chunkSize: 1 << 20 });
      let written = 0;
      const write = (piece: Buffer): Promise<void> => new Promise((resolve, reject) => {
        written += piece.length;
        inflater.write(piece, (e) => (e ? reject(e) : resolve()));
      });
      /** Resolves to the input left after the member's deflate data. */
      const body = (async (): Promise<Buffer> => {
        let piece = buf;
        buf = EMPTY;
        for (;;) {
          if (piece.length === 0) {
            const r = await it.next();
            if (r.done) {
              // Ends the output; an inflater short of its end reports the file as truncated.
              inflater.end();
              return EMPTY;
            }
            piece = r.value;
          }
          await write(piece);
          // The inflater stops at the end of the deflate data and leaves the rest unconsumed.
          const unused = written - inflater.bytesWritten;
          if (unused > 0) return piece.subarray(piece.length - unused);
          piece = EMPTY;
        }
      })();
      body.catch(() => {}); // an inflater error reaches the loop below first
      let size = 0;
      let crc = 0;
      for await (const chunk of inflater) {
        const b = chunk as Buffer;
        size += b.length;
        if (crc32) crc = crc32(b, crc);
        yield b;
      }
      buf = await body;
      while (buf.length < 8) {
        if (!(await more())) throw gzipError('Z_BUF_ERROR', 'unexpected end of file');
      }
      if (crc32 && buf.readUInt32LE(0) !== crc >>> 0) throw gzipError('Z_DATA_ERROR', 'incorrect data check');
      if (buf.readUInt32LE(4) !== size % 2 ** 32) throw gzipError('Z_DATA_ERROR', 'incorrect length check');
      buf = buf.subarray(8);
    }
  } finally {
    await it.return?.();
  }
}
