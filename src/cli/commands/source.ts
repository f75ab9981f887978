// `cairn source list | get`: the GitRepositories Applications follow, with the commit each is at.
import { API_VERSION, type Application, type GitRepository } from '../../api/types.ts';
import type { KubeObject } from '../../cluster/objects.ts';
import { commandGroup, type Command } from '../command.ts';
import { ExitCode } from '../io.ts';
import { GLOBAL_OPTIONS, withTarget } from '../kube.ts';
import { parseViewFormat } from '../output.ts';
import { getRepository, listCommand, listObjects, oneName, printView } from '../apps.ts';
import { sourceDetails, sourceTable } from '../views.ts';

const sourceList = listCommand<GitRepository & KubeObject>({
  kind: 'GitRepository',
  plural: 'GitRepositories',
  summary: 'list GitRepositories with their ref, revision and readiness',
  usage: 'cairn source list [-n NS | -A] [-o table|wide|json|yaml|name]',
  examples: ['cairn source list', 'cairn source list -A -o wide'],
  table: sourceTable,
});

const sourceGet: Command = {
  name: 'get',
  completesNamesOf: 'source',
  summary: 'show a GitRepository: URL, ref, last fetched revision, and the Applications that use it',
  usage: 'cairn source get NAME [-n NS] [-o table|json|yaml]',
  examples: ['cairn source get shop-repo -n shop', 'cairn source get shop-repo -o json'],
  options: GLOBAL_OPTIONS,
  async run({ values, positionals }, io) {
    const format = parseViewFormat(values.output);
    const name = oneName(positionals);
    return withTarget(values, io, async ({ client, namespace }) => {
      const repo = await getRepository(client, namespace, name);
      // Applications may follow a repository from another namespace: look in all the user may list, else this one.
      const apps = await listObjects<Application & KubeObject>(client, 'Application', undefined).catch(() =>
        listObjects<Application & KubeObject>(client, 'Application', namespace),
      );
      const users = apps.filter(
        (a) =>
          a.spec.source.repositoryRef.name === name &&
          (a.spec.source.repositoryRef.namespace ?? a.metadata.namespace) === namespace,
      );
      printView(
        io,
        format,
        {
          ...repo,
          apiVersion: API_VERSION,
          kind: 'GitRepository',
          applications: users.map((a) => ({ namespace: a.metadata.namespace, name: a.metadata.name })),
        },
        () => sourceDetails(repo, users, { now: new Date(), color: io.color }),
      );
      return ExitCode.Ok;
    });
  },
};

export const source = commandGroup(
  'source',
  'see the Git sources (GitRepositories) Applications follow',
  [sourceList, sourceGet],
  ['cairn source list -A', 'cairn source get shop-repo -n shop'],
);
