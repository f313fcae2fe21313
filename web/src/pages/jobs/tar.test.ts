import { describe, expect, it } from 'vitest';
import type { PackFile } from './tar';
import {
  BLOCK,
  fileMode,
  formatBytes,
  MAX_PACKAGE_ENTRIES,
  packagePath,
  packTar,
  selectFiles,
  skippedPath,
  splitPath,
  tarHeader,
  TarError,
  totalBytes,
} from './tar';

const decoder = new TextDecoder();

/** A NUL-terminated string field. */
function text(block: Uint8Array, offset: number, length: number): string {
  const field = block.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return decoder.decode(end === -1 ? field : field.subarray(0, end));
}

function octal(block: Uint8Array, offset: number, length: number): number {
  return Number.parseInt(text(block, offset, length).trim(), 8);
}

interface Entry {
  path: string;
  type: string;
  mode: number;
  size: number;
  mtime: number;
  data: string;
}

/** A small ustar reader, independent of the writer: checks every header's checksum and the end blocks. */
function parseTar(bytes: Uint8Array): Entry[] {
  expect(bytes.length % BLOCK).toBe(0);
  const entries: Entry[] = [];
  let offset = 0;
  for (;;) {
    const header = bytes.subarray(offset, offset + BLOCK);
    if (header.every((byte) => byte === 0)) {
      // The end: two zero blocks, nothing after them.
      expect(bytes.subarray(offset).every((byte) => byte === 0)).toBe(true);
      expect(bytes.length - offset).toBe(2 * BLOCK);
      return entries;
    }
    let sum = 0;
    header.forEach((byte, i) => {
      sum += i >= 148 && i < 156 ? 0x20 : byte;
    });
    expect(octal(header, 148, 8)).toBe(sum);
    expect(text(header, 257, 6)).toBe('ustar');
    expect(decoder.decode(header.subarray(263, 265))).toBe('00');
    const name = text(header, 0, 100);
    const prefix = text(header, 345, 155);
    const size = octal(header, 124, 12);
    const start = offset + BLOCK;
    entries.push({
      path: prefix ? `${prefix}/${name}` : name,
      type: String.fromCharCode(header[156]!),
      mode: octal(header, 100, 8),
      size,
      mtime: octal(header, 136, 12),
      data: decoder.decode(bytes.subarray(start, start + size)),
    });
    // Padding to the block is zeros.
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    expect(bytes.subarray(start + size, start + padded).every((byte) => byte === 0)).toBe(true);
    offset = start + padded;
  }
}

async function bytesOf(blob: Blob): Promise<Uint8Array> {
  return new Uint8Array(await blob.arrayBuffer());
}

const file = (path: string, content: string, lastModified = 1_795_927_040_500): PackFile => ({
  path,
  data: new Blob([content]),
  lastModified,
});

describe('tarHeader', () => {
  it('writes the ustar fields and a checksum that counts its own field as spaces', () => {
    const header = tarHeader({ path: 'train.py', size: 1234, mode: 0o644, mtime: 1_795_927_040, type: '0' });
    expect(header.length).toBe(BLOCK);
    expect(text(header, 0, 100)).toBe('train.py');
    expect(text(header, 100, 8)).toBe('0000644');
    expect(text(header, 108, 8)).toBe('0000000');
    expect(text(header, 124, 12)).toBe('00000002322'); // 1234 in octal, 11 digits
    expect(octal(header, 136, 12)).toBe(1_795_927_040);
    expect(text(header, 156, 1)).toBe('0');
    expect(decoder.decode(header.subarray(257, 263))).toBe('ustar\0');
    expect(decoder.decode(header.subarray(263, 265))).toBe('00');
    // Checksum: six octal digits, NUL, space.
    expect(header[154]).toBe(0);
    expect(header[155]).toBe(0x20);
    let sum = 0;
    header.forEach((byte, i) => {
      sum += i >= 148 && i < 156 ? 0x20 : byte;
    });
    expect(decoder.decode(header.subarray(148, 154))).toBe(sum.toString(8).padStart(6, '0'));
  });

  it('splits a long path into prefix and name at a slash', () => {
    const dir = `${'d'.repeat(60)}/${'e'.repeat(60)}`;
    const path = `${dir}/${'f'.repeat(90)}.py`;
    expect(splitPath(path)).toEqual({ prefix: dir, name: `${'f'.repeat(90)}.py` });
    const header = tarHeader({ path, size: 0, mode: 0o644, mtime: 0, type: '0' });
    expect(text(header, 0, 100)).toBe(`${'f'.repeat(90)}.py`);
    expect(text(header, 345, 155)).toBe(dir);
    expect(splitPath('short/name.py')).toEqual({ name: 'short/name.py', prefix: '' });
  });

  it('refuses a path that cannot be split', () => {
    expect(() => splitPath(`dir/${'x'.repeat(101)}`)).toThrow(TarError);
    expect(() => splitPath(`${'p'.repeat(156)}/a.py`)).toThrow(/too long/);
  });

  it('counts the bytes of UTF-8 names', () => {
    // 58 characters, but 109 bytes: split; the name is 50 two-byte characters, exactly 100 bytes.
    const path = `données/${'é'.repeat(50)}`;
    expect(splitPath(path)).toEqual({ prefix: 'données', name: 'é'.repeat(50) });
    expect(() => splitPath(`données/${'é'.repeat(51)}`)).toThrow(TarError);
  });
});

describe('packTar', () => {
  it('packs folders and files, padded to 512 bytes, ending with two zero blocks', async () => {
    const long = `deep/${'a'.repeat(80)}/${'b'.repeat(70)}.py`;
    const archive = packTar([file('train.py', 'print(1)\n'), file('run_local.sh', '#!/bin/sh\n'), file('data/x.csv', ''), file(long, 'x'.repeat(512))], 0);
    expect(archive.type).toBe('application/x-tar');
    const bytes = await bytesOf(archive);
    const entries = parseTar(bytes);
    expect(entries.map((e) => [e.path, e.type, e.mode.toString(8), e.size])).toEqual([
      ['data/', '5', '755', 0],
      ['deep/', '5', '755', 0],
      [`deep/${'a'.repeat(80)}/`, '5', '755', 0],
      ['train.py', '0', '644', 9],
      ['run_local.sh', '0', '755', 10],
      ['data/x.csv', '0', '644', 0],
      [long, '0', '644', 512],
    ]);
    expect(entries[3]!.data).toBe('print(1)\n');
    expect(entries[3]!.mtime).toBe(1_795_927_040);
    expect(entries[6]!.data).toBe('x'.repeat(512));
    // 7 headers, 3 data blocks (9, 10 bytes padded; 512 exactly), 2 end blocks.
    expect(bytes.length).toBe((7 + 3 + 2) * BLOCK);
  });

  it('is two zero blocks for no files', async () => {
    expect(parseTar(await bytesOf(packTar([])))).toEqual([]);
  });

  it('keeps to the server’s entry limit', () => {
    const many = Array.from({ length: MAX_PACKAGE_ENTRIES + 1 }, (_, i) => ({ path: `f${i}`, data: new Blob([]) }));
    expect(() => packTar(many)).toThrow(/at most 100000/);
  });
});

describe('choosing files', () => {
  it('strips the chosen folder from the path', () => {
    expect(packagePath('fit_a_line/train.py')).toBe('train.py');
    expect(packagePath('fit_a_line/data/x.csv')).toBe('data/x.csv');
    expect(packagePath('train.py')).toBeUndefined();
    expect(packagePath('f/../etc/passwd')).toBeUndefined();
    expect(packagePath('f//a')).toBeUndefined();
  });

  it('skips .git, __pycache__ and byte code', () => {
    expect(skippedPath('.git/config')).toBe(true);
    expect(skippedPath('sub/.git/HEAD')).toBe(true);
    expect(skippedPath('__pycache__/train.cpython-311.pyc')).toBe(true);
    expect(skippedPath('lib/__pycache__/x')).toBe(true);
    expect(skippedPath('model.pyc')).toBe(true);
    expect(skippedPath('train.py')).toBe(false);
    expect(skippedPath('.gitignore')).toBe(false);
    expect(skippedPath('git/notes.txt')).toBe(false);
  });

  it('selects, sorts and sizes the files to pack', () => {
    const chosen = [
      ['fit_a_line/train.py', 'abc'],
      ['fit_a_line/.git/HEAD', 'ref'],
      ['fit_a_line/README.md', 'hello'],
      ['fit_a_line/__pycache__/train.cpython-311.pyc', 'xx'],
      ['fit_a_line/lib/util.pyc', 'xx'],
      ['fit_a_line/lib/util.py', 'u'],
    ].map(([relativePath, content]) => ({ relativePath: relativePath!, file: new Blob([content!]) }));
    const files = selectFiles(chosen);
    expect(files.map((f) => f.path)).toEqual(['README.md', 'lib/util.py', 'train.py']);
    expect(totalBytes(files)).toBe(9);
  });

  it('gives modes and sizes', () => {
    expect(fileMode('run_local.sh')).toBe(0o755);
    expect(fileMode('train.py')).toBe(0o644);
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(30 * 1024)).toBe('30 KiB');
    expect(formatBytes(1024 ** 3)).toBe('1.0 GiB');
  });
});
