import { describe, expect, it } from 'vitest';
import { decodeText, hexDump, parseDelimited, prettyJson, previewKind } from './preview';

describe('previewKind', () => {
  it('chooses by extension and content type', () => {
    expect(previewKind('train.csv', null)).toBe('csv');
    expect(previewKind('data', 'text/csv; charset=utf-8')).toBe('csv');
    expect(previewKind('x.tsv', null)).toBe('tsv');
    expect(previewKind('meta.json', null)).toBe('json');
    expect(previewKind('a.png', 'application/octet-stream')).toBe('image');
    expect(previewKind('blob', 'image/jpeg')).toBe('image');
    expect(previewKind('README.md', null)).toBe('text');
    expect(previewKind('notes', 'text/plain')).toBe('text');
    expect(previewKind('page.html', 'text/html')).toBe('text');
    expect(previewKind('model.pdparams', 'application/octet-stream')).toBe('binary');
  });
});

describe('parseDelimited', () => {
  it('handles quoted fields with delimiters, quotes and line breaks', () => {
    const text = 'name,comment,n\r\n"Smith, Ann","said ""hi""\nthen left",3\nBob,,4\n';
    expect(parseDelimited(text).rows).toEqual([
      ['name', 'comment', 'n'],
      ['Smith, Ann', 'said "hi"\nthen left', '3'],
      ['Bob', '', '4'],
    ]);
    expect(parseDelimited(text).more).toBe(false);
  });

  it('keeps a last line without a line break, and drops it when the read cut the file', () => {
    expect(parseDelimited('a,b\n1,2').rows).toEqual([['a', 'b'], ['1', '2']]);
    expect(parseDelimited('a,b\n1,2\n3,', ',', 100, true)).toEqual({ rows: [['a', 'b'], ['1', '2']], more: true });
  });

  it('reads tabs and stops after maxRows', () => {
    const text = Array.from({ length: 10 }, (_, i) => `r${i}\t${i}`).join('\n');
    const { rows, more } = parseDelimited(text, '\t', 3);
    expect(rows).toEqual([['r0', '0'], ['r1', '1'], ['r2', '2']]);
    expect(more).toBe(true);
  });

  it('skips a byte order mark', () => {
    expect(parseDelimited('\uFEFFa,b\n').rows).toEqual([['a', 'b']]);
  });
});

describe('text, JSON and hex', () => {
  it('decodes UTF-8 text and refuses binary', () => {
    expect(decodeText(new TextEncoder().encode('héllo'))).toBe('héllo');
    expect(decodeText(new Uint8Array([0x68, 0x00, 0x69]))).toBeUndefined();
    expect(decodeText(new Uint8Array([0xff, 0xfe, 0x41]))).toBeUndefined();
    // A character cut by the end of the read is dropped.
    expect(decodeText(new Uint8Array([0x61, 0xc3]))).toBe('a');
  });

  it('pretty-prints JSON', () => {
    expect(prettyJson('{"a":[1,2],"b":{"c":null}}')).toBe('{\n  "a": [\n    1,\n    2\n  ],\n  "b": {\n    "c": null\n  }\n}');
    expect(prettyJson('{"a":')).toBeUndefined();
  });

  it('dumps bytes as offset, hex and ASCII', () => {
    const bytes = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x41]);
    expect(hexDump(bytes).split('\n')).toEqual([
      '00000000  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52  |.PNG........IHDR|',
      '00000010  41                                                |A|',
    ]);
    expect(hexDump(new Uint8Array(1000)).split('\n')).toHaveLength(32);
  });
});
