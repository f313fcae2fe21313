// Cloud paths as the file pages show them: the in-app URL of a folder, breadcrumbs, what may be
// shared, published or copied, and byte sizes for people.
import { encodePath } from '../../api/files';
import { formatSize } from '../../format';

export { formatSize };

/** The spaces with a page of their own (/datasets/..., /models/..., /workspace/...). */
export const OWN_SPACES = ['datasets', 'models', 'workspace'] as const;
export type OwnSpace = (typeof OWN_SPACES)[number];

const SPACE_LABELS: Record<string, string> = {
  datasets: 'Datasets',
  models: 'Models',
  workspace: 'Workspace',
  public: 'Public',
  shared: 'Shared with me',
};

export function segments(path: string): string[] {
  return path.split('/').filter((segment) => segment !== '');
}

/** "datasets//mnist/" -> "datasets/mnist". */
export function cleanPath(path: string): string {
  return segments(path).join('/');
}

export function joinPath(...parts: string[]): string {
  return segments(parts.join('/')).join('/');
}

/** "datasets/mnist/train.csv" -> "datasets/mnist"; a top-level path -> "". */
export function parentPath(path: string): string {
  return segments(path).slice(0, -1).join('/');
}

export function baseName(path: string): string {
  const parts = segments(path);
  return parts[parts.length - 1] ?? '';
}

/** The top-level folder of a path: "datasets", "public", ... ("" for the root). */
export function spaceOf(path: string): string {
  return segments(path)[0] ?? '';
}

export function spaceLabel(space: string): string {
  return SPACE_LABELS[space] ?? space;
}

/** The in-app URL that shows a cloud path: /datasets/..., /models/..., /workspace/..., else /files/.... */
export function browserHref(path: string): string {
  const parts = segments(path);
  const [top] = parts;
  if (top !== undefined && (OWN_SPACES as readonly string[]).includes(top)) return `/${encodePath(path)}`;
  return parts.length === 0 ? '/files' : `/files/${encodePath(path)}`;
}

export interface Crumb {
  label: string;
  path: string;
}

/** The breadcrumbs of a path, from its top: "datasets/mnist/images" -> Datasets, mnist, images. */
export function breadcrumbs(path: string): Crumb[] {
  const parts = segments(path);
  return parts.map((part, index) => ({
    label: index === 0 ? spaceLabel(part) : part,
    path: parts.slice(0, index + 1).join('/'),
  }));
}

/** Only what is in datasets/ and models/ (not the folders themselves) can be shared. */
export function canShare(path: string): boolean {
  const parts = segments(path);
  return parts.length >= 2 && (parts[0] === 'datasets' || parts[0] === 'models');
}

const ARCHIVE = /\.(tar|tar\.gz|tgz|zip)$/i;

export function isArchive(name: string): boolean {
  return ARCHIVE.test(name);
}

/**
 * Anything inside a writable space (not a top-level folder): a folder, an archive (the server unpacks
 * it) or a single file (a model's weights), which the server puts in a folder of its own.
 */
export function canPublish(path: string): boolean {
  const parts = segments(path);
  return parts.length >= 2 && (OWN_SPACES as readonly string[]).includes(parts[0]!);
}

/** A publication's kind as the path suggests it: models/ -> model, anything else -> dataset. */
export function publishKindFor(path: string): 'model' | 'dataset' {
  return spaceOf(path) === 'models' ? 'model' : 'dataset';
}

/** The server's rule: 1-63 of a-z 0-9 - _ . starting with a letter or digit. */
export const PUBLICATION_NAME = /^[a-z0-9][a-z0-9._-]{0,62}$/;
export const PUBLICATION_VERSION = /^[A-Za-z0-9._+-]{1,63}$/;

/**
 * A publication name suggested from a file or folder name: "ResNet 50.tar.gz" -> "resnet-50"; a
 * file's extension goes too ("resnet50.pdparams" -> "resnet50").
 */
export function suggestedName(path: string, kind: string = 'folder'): string {
  const base = baseName(path);
  const bare = isArchive(base) ? base.replace(ARCHIVE, '') : kind === 'file' ? base.replace(/(.)\.[^.]*$/, '$1') : base;
  const name = bare.toLowerCase();
  return name
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[-.]+|[-.]+$/g, '')
    .slice(0, 63);
}

/**
 * Where "Copy to my space" puts something by default: a publication of a model goes to models/<name>,
 * of a dataset to datasets/<name>; a shared path keeps its place (shared/acme/datasets/mnist ->
 * datasets/mnist); anything else goes to workspace/<name>.
 */
export function suggestedCopyTarget(from: string): string {
  const parts = segments(from);
  if (parts[0] === 'public' && parts.length >= 4) {
    const space = parts[1] === 'models' ? 'models' : 'datasets';
    return joinPath(space, parts[3]!, ...parts.slice(5));
  }
  if (parts[0] === 'shared' && parts.length >= 4 && (parts[2] === 'datasets' || parts[2] === 'models')) {
    return parts.slice(2).join('/');
  }
  return joinPath('workspace', baseName(from));
}

/** What breaks the cloud-path rule every client shares (docs/files.md, testdata/cloud_paths.json). */
export type CloudPathErrorCode =
  | 'absolute'
  | 'empty_segment'
  | 'dot_segment'
  | 'nul'
  | 'backslash'
  | 'control'
  | 'segment_too_long'
  | 'path_too_long'
  | 'invalid_utf8';

const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// Control characters (U+0000-U+001F, U+007F), NUL among them.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The server's rule: the path with trailing "/"s dropped, or the code of what breaks it. */
export function checkCloudPath(path: string): { path: string } | { error: CloudPathErrorCode } {
  if (LONE_SURROGATE.test(path)) return { error: 'invalid_utf8' };
  if (utf8.encode(path).length > 4096) return { error: 'path_too_long' };
  if (path.startsWith('/')) return { error: 'absolute' };
  const normal = path.replace(/\/+$/, '');
  if (normal === '') return { path: '' };
  for (const segment of normal.split('/')) {
    if (segment === '') return { error: 'empty_segment' };
    if (segment === '.' || segment === '..') return { error: 'dot_segment' };
    if (utf8.encode(segment).length > 255) return { error: 'segment_too_long' };
    const bad = [...segment].find((ch) => ch === '\\' || CONTROL.test(ch));
    if (bad === '\0') return { error: 'nul' };
    if (bad === '\\') return { error: 'backslash' };
    if (bad !== undefined) return { error: 'control' };
  }
  return { path: normal };
}

const PATH_PROBLEMS: Record<CloudPathErrorCode, string> = {
  absolute: 'A path is relative: it starts with datasets/, models/ or workspace/.',
  empty_segment: 'A path cannot have empty, . or .. parts.',
  dot_segment: 'A path cannot have empty, . or .. parts.',
  nul: 'A path cannot contain control characters.',
  control: 'A path cannot contain control characters.',
  backslash: 'A path uses / between folders.',
  segment_too_long: 'A name has at most 255 bytes.',
  path_too_long: 'A path has at most 4096 bytes.',
  invalid_utf8: 'A path must be valid text.',
};

/** The problem with a name for a new file or folder, or undefined when it is fine. */
export function nameProblem(name: string): string | undefined {
  if (name.trim() === '') return 'Enter a name.';
  if (name.includes('/') || name.includes('\\')) return 'A name cannot contain / or \\.';
  if (name === '.' || name === '..') return 'Choose another name.';
  const checked = checkCloudPath(name);
  return 'error' in checked ? PATH_PROBLEMS[checked.error] : undefined;
}

/** The problem with a cloud path typed by a person, or undefined when it is fine. */
export function pathProblem(path: string): string | undefined {
  const text = path.trim();
  if (text === '') return 'Enter a path.';
  const checked = checkCloudPath(text);
  if ('error' in checked) return PATH_PROBLEMS[checked.error];
  const parts = checked.path.split('/');
  if (!(OWN_SPACES as readonly string[]).includes(parts[0]!) || parts.length < 2) {
    return 'Choose a place in datasets/, models/ or workspace/.';
  }
  return undefined;
}

/** "3.2 GiB of 10 GiB" (or "3.2 GiB used" without a quota). */
export function storageText(used: number, quota: number | null | undefined): string {
  return quota ? `${formatSize(used)} of ${formatSize(quota)}` : `${formatSize(used)} used`;
}
