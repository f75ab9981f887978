// Where a command's manifests come from: a local folder (inside a Git checkout or not) or
// --repo URL --revision REF --path P; then rendered by the render stage.
import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { basename, posix, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Renderer } from '../render/renderer.ts';
import { defaultRenderOptions, type RenderResult, type RendererChoice } from '../render/types.ts';
import { GitMirrors, defaultMirrorOptions } from '../source/mirrors.ts';
import { SourceError, SourceErrorReason } from '../source/errors.ts';
import type { GitRef } from '../source/refs.ts';
import type { OptionSpec } from './command.ts';
import { UsageError, type CliIO } from './io.ts';

export const SOURCE_OPTIONS: OptionSpec = {
  repo: { type: 'string' },
  revision: { type: 'string' },
  path: { type: 'string' },
  renderer: { type: 'string' },
  'helm-values': { type: 'string', multiple: true },
  'release-name': { type: 'string' },
  'allow-http': { type: 'boolean' },
};

export interface LoadedSource {
  /** Repository root (the render boundary). */
  root: string;
  /** Application folder, relative to root. */
  path: string;
  /** Commit SHA, or `local` outside a Git checkout. */
  revision: string;
  /** Where it came from, for messages. */
  origin: string;
}

const run = promisify(execFile);

/** A revision as a person types it: a SHA, a full ref, a semver range, or a branch or tag name. */
export function refCandidates(revision: string): GitRef[] {
  if (/^[0-9a-f]{40}$/.test(revision)) return [{ commit: revision }];
  if (revision.startsWith('refs/')) return [{ name: revision }];
  if (/[\^~<>*=|\s]|(^|\.)x(\.|$)/.test(revision)) return [{ semver: revision }];
  return [{ branch: revision }, { tag: revision }];
}

export async function loadSource(
  values: Record<string, unknown>,
  positionals: string[],
  io: CliIO,
): Promise<LoadedSource> {
  const repo = values.repo as string | undefined;
  if (repo) {
    if (positionals.length > 0) throw new UsageError('give either a local PATH or --repo, not both');
    const mirrors = new GitMirrors({
      ...defaultMirrorOptions(),
      ...(io.env.CAIRN_CACHE_DIR ? { cacheDir: resolve(io.env.CAIRN_CACHE_DIR, 'git') } : {}),
      allowHttp: Boolean(values['allow-http']),
    });
    const revision = (values.revision as string | undefined) ?? 'main';
    let lastError: unknown;
    for (const ref of refCandidates(revision)) {
      try {
        const artifact = await mirrors.fetch({ url: repo, ref });
        return {
          root: artifact.dir,
          path: (values.path as string | undefined) ?? '.',
          revision: artifact.commit,
          origin: `${artifact.url}@${artifact.commit.slice(0, 12)}`,
        };
      } catch (e) {
        lastError = e;
        if (!(e instanceof SourceError && e.reason === SourceErrorReason.RefNotFound)) throw e;
      }
    }
    throw lastError;
  }
  if (positionals.length !== 1)
    throw new UsageError('give one local PATH, or --repo URL --revision REF --path P');
  if (values.path !== undefined || values.revision !== undefined)
    throw new UsageError('--path and --revision go with --repo');
  const folder = resolve(io.cwd, positionals[0]!);
  const info = await stat(folder).catch(() => undefined);
  if (!info?.isDirectory()) throw new UsageError(`${positionals[0]}: not a folder`);
  try {
    const { stdout: top } = await run('git', ['-C', folder, 'rev-parse', '--show-toplevel']);
    const root = top.trim();
    const { stdout: head } = await run('git', ['-C', root, 'rev-parse', 'HEAD']).catch(() => ({
      stdout: 'local',
    }));
    return { root, path: relative(root, folder) || '.', revision: head.trim(), origin: folder };
  } catch {
    return { root: folder, path: '.', revision: 'local', origin: folder };
  }
}

/** The application name a command uses when --app is not given: the folder's name. */
export function defaultAppName(source: LoadedSource): string {
  const name = basename(source.path === '.' ? source.root : source.path)
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return name || 'app';
}

export async function renderSource(
  source: LoadedSource,
  values: Record<string, unknown>,
  options: { releaseName: string; namespace: string },
): Promise<RenderResult> {
  const defaults = defaultRenderOptions();
  const renderer = (values.renderer as string | undefined) ?? 'auto';
  if (!['auto', 'plain', 'kustomize', 'helm'].includes(renderer))
    throw new UsageError(`--renderer must be auto, plain, kustomize or helm, got "${renderer}"`);
  return new Renderer({ cacheSize: 0 }).render({
    ...defaults,
    root: source.root,
    path: source.path,
    renderer: renderer as RendererChoice,
    helm: {
      ...defaults.helm,
      releaseName: (values['release-name'] as string | undefined) ?? options.releaseName,
      namespace: options.namespace,
      // As in Argo CD, values files are named relative to the chart folder.
      valueFiles: ((values['helm-values'] as string[] | undefined) ?? []).map((f) =>
        posix.join(source.path, f),
      ),
    },
  });
}
