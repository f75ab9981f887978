import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join, relative, resolve, sep } from 'node:path';
import { defaultScaffoldOptions, scaffoldFiles, scaffoldProblems } from '../../api/scaffold.ts';
import type { Command } from '../command.ts';
import { UsageError, writeLine } from '../io.ts';
import { parseOutputFormat } from '../output.ts';

/** The folder's path inside the Git work tree that holds it ('' at the top, or when there is none). */
function pathInRepository(dir: string): string {
  for (let at = dir; ; at = dirname(at)) {
    if (existsSync(join(at, '.git'))) return relative(at, dir).split(sep).join('/');
    if (dirname(at) === at) return '';
  }
}

export const init: Command = {
  name: 'init',
  summary: 'scaffold an application with a Kustomize overlay and an Application per environment',
  usage:
    'cairn init --env dev,staging,production [--path DIR] [--name NAME] [--repo-url URL] [--branch main] [-o json]',
  description:
    'Writes base/ (Deployment, Service, kustomization), environments/<env>/ (a kustomization and patches/:\n' +
    'replicas and an ENVIRONMENT variable differ per environment) and apps/<env>.yaml (an Application per\n' +
    'environment, deploying to the namespace <name>-<env>) into DIR (default: the current folder). With\n' +
    '--repo-url, apps/repository.yaml holds the GitRepository the Applications follow. Existing files are\n' +
    'never overwritten: if any file is there already, nothing is written and the command fails.\n' +
    'Application paths are relative to the Git work tree that holds DIR, if any.',
  examples: [
    'cairn init --env dev,staging,production --path shop --repo-url https://git.example.com/shop.git',
    'cairn init --env dev,production -o json',
  ],
  options: {
    env: { type: 'string' },
    path: { type: 'string' },
    name: { type: 'string' },
    'repo-url': { type: 'string' },
    branch: { type: 'string' },
    image: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  async run({ values, positionals }, io) {
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument "${positionals[0]}" (use --path DIR)`);
    const format = values.output === undefined ? 'text' : parseOutputFormat(values.output as string, 'json');
    if (!values.env) throw new UsageError('--env is required, e.g. --env dev,staging,production');
    const dir = resolve(io.cwd, (values.path as string | undefined) ?? '.');
    const defaults = defaultScaffoldOptions();
    const options = {
      ...defaults,
      environments: (values.env as string)
        .split(',')
        .map((e) => e.trim())
        .filter(Boolean),
      name:
        (values.name as string | undefined) ??
        basename(dir)
          .toLowerCase()
          .replace(/[^a-z0-9-]+/g, '-')
          .replace(/^-+|-+$/g, ''),
      repoPath: pathInRepository(dir),
      branch: (values.branch as string | undefined) ?? defaults.branch,
      image: (values.image as string | undefined) ?? defaults.image,
      ...(values['repo-url'] ? { repoUrl: values['repo-url'] as string } : {}),
    };
    const problems = scaffoldProblems(options);
    if (problems.length > 0) throw new UsageError(problems.join('; '));
    const files = scaffoldFiles(options);
    const present = files.filter((f) => existsSync(join(dir, f.path))).map((f) => f.path);
    if (present.length > 0) {
      writeLine(
        io.err,
        `cairn init: ${dir} already holds ${present.join(', ')}: nothing written (move them away or choose another --path)`,
      );
      return 1;
    }
    for (const f of files) {
      const target = join(dir, ...f.path.split('/'));
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, f.content, { flag: 'wx' });
    }
    if (format === 'text') {
      for (const f of files) writeLine(io.out, `created ${f.path}`);
      writeLine(
        io.out,
        `\nNext: commit and push, then apply apps/ in the namespace of your choice (kubectl apply -n NS -f apps/).` +
          (options.repoUrl
            ? ''
            : `\nWithout --repo-url, create a GitRepository named ${options.name} in that namespace first.`),
      );
    } else {
      const data = {
        path: dir,
        name: options.name,
        environments: options.environments,
        files: files.map((f) => f.path),
      };
      if (format === 'json') writeLine(io.out, JSON.stringify(data, null, 2));
      else io.out.write((await import('yaml')).stringify(data));
    }
    return 0;
  },
};
