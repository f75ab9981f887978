// What `cairn init` writes: one application as a Kustomize base and an overlay per environment,
// and an Application per environment that follows its overlay. Pure: options in, files out.
import { stringify } from 'yaml';
import type { KubeObject } from '../cluster/objects.ts';
import { API_VERSION } from './types.ts';

export interface ScaffoldOptions {
  /** Environments in promotion order, e.g. dev, staging, production. */
  environments: string[];
  /** The application's name: Deployment, Service, GitRepository and Application names derive from it. */
  name: string;
  /** The folder the files go to, relative to the repository root (`` for the root). */
  repoPath: string;
  /** When set, a GitRepository for it is written too. */
  repoUrl?: string;
  branch: string;
  image: string;
}

export function defaultScaffoldOptions(): Omit<ScaffoldOptions, 'environments' | 'name'> {
  return { repoPath: '', branch: 'main', image: 'nginxinc/nginx-unprivileged:1.27' };
}

const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

/** What is wrong with the options, one reason per problem; empty when they can be used. */
export function scaffoldProblems(o: ScaffoldOptions): string[] {
  const problems: string[] = [];
  if (o.environments.length === 0) problems.push('name at least one environment');
  for (const env of o.environments) {
    if (!DNS_LABEL.test(env) || env.length > 30)
      problems.push(`environment "${env}": use lower-case letters, digits and "-" (at most 30)`);
  }
  const seen = new Set<string>();
  for (const env of o.environments) {
    if (seen.has(env)) problems.push(`environment "${env}" is named twice`);
    seen.add(env);
  }
  if (!DNS_LABEL.test(o.name) || o.name.length > 30)
    problems.push(`name "${o.name}": use lower-case letters, digits and "-" (at most 30)`);
  return problems;
}

const yaml = (value: unknown) => stringify(value, { lineWidth: 0 });
const join = (...parts: string[]) => parts.filter((p) => p !== '').join('/');

/** Replicas grow along the promotion order: 1 in the first environment, up to 3. */
export function replicasFor(index: number): number {
  return Math.min(index + 1, 3);
}

/** The files, relative to the scaffold folder, in the order they are written. */
export function scaffoldFiles(o: ScaffoldOptions): { path: string; content: string }[] {
  const labels = { 'app.kubernetes.io/name': o.name };
  const files: { path: string; content: string }[] = [
    {
      path: 'base/deployment.yaml',
      content: yaml({
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: o.name },
        spec: {
          replicas: 1,
          selector: { matchLabels: labels },
          template: {
            metadata: { labels },
            spec: {
              containers: [
                {
                  name: o.name,
                  image: o.image,
                  ports: [{ name: 'http', containerPort: 8080 }],
                  env: [{ name: 'ENVIRONMENT', value: 'base' }],
                  resources: { requests: { cpu: '50m', memory: '64Mi' } },
                },
              ],
            },
          },
        },
      }),
    },
    {
      path: 'base/service.yaml',
      content: yaml({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: o.name },
        spec: { selector: labels, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
      }),
    },
    {
      path: 'base/kustomization.yaml',
      content: yaml({
        apiVersion: 'kustomize.config.k8s.io/v1beta1',
        kind: 'Kustomization',
        resources: ['deployment.yaml', 'service.yaml'],
        labels: [{ pairs: { 'app.kubernetes.io/part-of': o.name }, includeSelectors: false }],
      }),
    },
  ];
  o.environments.forEach((env, index) => {
    files.push(
      {
        path: `environments/${env}/kustomization.yaml`,
        content: yaml({
          apiVersion: 'kustomize.config.k8s.io/v1beta1',
          kind: 'Kustomization',
          resources: ['../../base'],
          labels: [{ pairs: { 'app.kubernetes.io/instance': `${o.name}-${env}` }, includeSelectors: false }],
          patches: [{ path: 'patches/deployment.yaml' }],
        }),
      },
      {
        path: `environments/${env}/patches/deployment.yaml`,
        content:
          `# What differs in ${env}.\n` +
          yaml({
            apiVersion: 'apps/v1',
            kind: 'Deployment',
            metadata: { name: o.name },
            spec: {
              replicas: replicasFor(index),
              template: {
                spec: { containers: [{ name: o.name, env: [{ name: 'ENVIRONMENT', value: env }] }] },
              },
            },
          }),
      },
    );
  });
  if (o.repoUrl) {
    files.push({
      path: 'apps/repository.yaml',
      content: yaml(gitRepository(o)),
    });
  }
  for (const env of o.environments) {
    files.push({ path: `apps/${env}.yaml`, content: yaml(application(o, env)) });
  }
  return files;
}

function gitRepository(o: ScaffoldOptions): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: 'GitRepository',
    metadata: { name: o.name },
    spec: { url: o.repoUrl, ref: { branch: o.branch }, interval: '1m' },
  };
}

function application(o: ScaffoldOptions, env: string): KubeObject {
  return {
    apiVersion: API_VERSION,
    kind: 'Application',
    metadata: { name: `${o.name}-${env}`, labels: { 'app.kubernetes.io/name': o.name, environment: env } },
    spec: {
      source: { repositoryRef: { name: o.name }, path: join(o.repoPath, 'environments', env) },
      destination: { namespace: `${o.name}-${env}` },
      syncPolicy: { automated: { prune: true, selfHeal: true }, createNamespace: true },
    },
  };
}
