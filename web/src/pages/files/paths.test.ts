import { describe, expect, it } from 'vitest';
import {
  breadcrumbs,
  browserHref,
  canPublish,
  canShare,
  checkCloudPath,
  formatSize,
  nameProblem,
  parentPath,
  pathProblem,
  storageText,
  suggestedCopyTarget,
  suggestedName,
} from './paths';
import vectors from '../../../../testdata/cloud_paths.json';

describe('browserHref', () => {
  it('gives the own spaces their pages and everything else /files', () => {
    expect(browserHref('datasets')).toBe('/datasets');
    expect(browserHref('datasets/mnist/a b.csv')).toBe('/datasets/mnist/a%20b.csv');
    expect(browserHref('models/resnet')).toBe('/models/resnet');
    expect(browserHref('workspace/x')).toBe('/workspace/x');
    expect(browserHref('public/models/acme/resnet/1.0')).toBe('/files/public/models/acme/resnet/1.0');
    expect(browserHref('shared/acme/datasets/mnist')).toBe('/files/shared/acme/datasets/mnist');
    expect(browserHref('')).toBe('/files');
  });
});

describe('breadcrumbs', () => {
  it('names the space and links every folder above', () => {
    expect(breadcrumbs('datasets/mnist/images')).toEqual([
      { label: 'Datasets', path: 'datasets' },
      { label: 'mnist', path: 'datasets/mnist' },
      { label: 'images', path: 'datasets/mnist/images' },
    ]);
    expect(breadcrumbs('shared/acme')[0]).toEqual({ label: 'Shared with me', path: 'shared' });
    expect(breadcrumbs('')).toEqual([]);
  });

  it('parentPath', () => {
    expect(parentPath('datasets/mnist/train.csv')).toBe('datasets/mnist');
    expect(parentPath('datasets')).toBe('');
  });
});

describe('what can be done where', () => {
  it('shares only inside datasets/ and models/', () => {
    expect(canShare('datasets/mnist')).toBe(true);
    expect(canShare('models/resnet/w.bin')).toBe(true);
    expect(canShare('datasets')).toBe(false);
    expect(canShare('workspace/x')).toBe(false);
    expect(canShare('public/models/a/b/1')).toBe(false);
  });

  it('publishes folders and archives of the writable spaces', () => {
    expect(canPublish('models/resnet')).toBe(true);
    expect(canPublish('models/resnet.tar.gz')).toBe(true);
    expect(canPublish('datasets/d.zip')).toBe(true);
    expect(canPublish('models/weights.bin')).toBe(true);
    expect(canPublish('models')).toBe(false);
    expect(canPublish('shared/acme/models/x')).toBe(false);
    expect(canPublish('public/models/acme/resnet/1.0')).toBe(false);
  });

  it('suggests names and copy targets', () => {
    expect(suggestedName('models/ResNet 50.tar.gz')).toBe('resnet-50');
    expect(suggestedName('datasets/mnist')).toBe('mnist');
    expect(suggestedName('models/ResNet50.pdparams', 'file')).toBe('resnet50');
    expect(suggestedName('models/resnet-1.5', 'folder')).toBe('resnet-1.5');
    expect(suggestedName('models/.hidden', 'file')).toBe('hidden');
    expect(suggestedCopyTarget('public/models/acme/resnet/1.0')).toBe('models/resnet');
    expect(suggestedCopyTarget('public/datasets/acme/mnist/2/train')).toBe('datasets/mnist/train');
    expect(suggestedCopyTarget('shared/acme/datasets/mnist')).toBe('datasets/mnist');
    expect(suggestedCopyTarget('shared/acme/models/x/y.bin')).toBe('models/x/y.bin');
  });

  it('checks names and paths typed by people', () => {
    expect(nameProblem('')).toBe('Enter a name.');
    expect(nameProblem('a/b')).toMatch(/cannot contain/);
    expect(nameProblem('..')).toBeDefined();
    expect(nameProblem('images')).toBeUndefined();
    expect(pathProblem('datasets/x')).toBeUndefined();
    expect(pathProblem('datasets/x/')).toBeUndefined();
    expect(pathProblem('/datasets/x')).toMatch(/relative/);
    expect(pathProblem('datasets/../x')).toBeDefined();
    expect(pathProblem('public/models/x')).toMatch(/datasets\/, models\/ or workspace\//);
    expect(pathProblem('datasets')).toBeDefined();
  });
});

describe('the cloud-path rule', () => {
  // The vectors the server and the SDK test too; the rule: docs/files.md.
  it.each(vectors.vectors.map((v) => [v.why, v] as const))('%s', (_why, v) => {
    expect(checkCloudPath(v.input)).toEqual('path' in v ? { path: v.path } : { error: v.error });
  });

  it('refuses text that is not UTF-8 (a lone surrogate, not representable in the JSON file)', () => {
    expect(checkCloudPath('datasets/\uD800x')).toEqual({ error: 'invalid_utf8' });
    expect(checkCloudPath('datasets/😀')).toEqual({ path: 'datasets/😀' });
  });

  it('says what is wrong with a typed path or name', () => {
    expect(pathProblem('datasets/a\u0001b')).toMatch(/control characters/);
    expect(pathProblem(`datasets/${'x'.repeat(256)}`)).toMatch(/255 bytes/);
    expect(nameProblem('a\u007fb')).toMatch(/control characters/);
    expect(nameProblem('数'.repeat(86))).toMatch(/255 bytes/);
  });
});

describe('formatSize', () => {
  it.each([
    [0, '0 B'],
    [512, '512 B'],
    [1536, '1.5 KiB'],
    [30 * 1024, '30 KiB'],
    [3.2 * 1024 ** 3, '3.2 GiB'],
    [10 * 1024 ** 3, '10 GiB'],
    [2 * 1024 ** 4, '2.0 TiB'],
  ])('%d -> %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  it('shows the storage used of the quota', () => {
    expect(storageText(3.2 * 1024 ** 3, 10 * 1024 ** 3)).toBe('3.2 GiB of 10 GiB');
    expect(storageText(1024, null)).toBe('1.0 KiB used');
    expect(formatSize(null)).toBe('—');
  });
});

describe('publication names', () => {
  it('follows the server: a-z 0-9 - _ . starting with a letter or digit', async () => {
    const { PUBLICATION_NAME, PUBLICATION_VERSION } = await import('./paths');
    expect(PUBLICATION_NAME.test('resnet-50')).toBe(true);
    expect(PUBLICATION_NAME.test('-resnet')).toBe(false);
    expect(PUBLICATION_NAME.test('ResNet')).toBe(false);
    expect(PUBLICATION_NAME.test('a'.repeat(64))).toBe(false);
    expect(PUBLICATION_VERSION.test('1.0+build.7')).toBe(true);
    expect(PUBLICATION_VERSION.test('1 0')).toBe(false);
  });
});
