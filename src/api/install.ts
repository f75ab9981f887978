// The manifests that install Cairn into a cluster, generated from code so the CRDs, RBAC and the
// controller Deployment cannot drift apart. `npm run generate` writes them to deploy/.
import type { KubeObject } from '../cluster/objects.ts';
import { VERSION as CAIRN_VERSION } from '../version.ts';
import { customResourceDefinitions } from './crds.ts';
import { GROUP } from './types.ts';

export interface InstallOptions {
  namespace: string;
  image: string;
  /** Port of the controller's listener: /metrics, /healthz, /readyz and webhooks. */
  port: number;
  replicas: number;
  /** Also install `cairn server`, the web UI and its API (see `serverManifests`). */
  server: boolean;
  /** Port of the server's HTTP listener. */
  serverPort: number;
  /** The Kubernetes user the local admin account acts as; bind it to what the admin may do. */
  adminUser: string;
}

export function defaultInstallOptions(): InstallOptions {
  return {
    namespace: 'cairn-system',
    image: `cairn:${CAIRN_VERSION}`,
    port: 8080,
    replicas: 1,
    server: false,
    serverPort: 8090,
    adminUser: 'cairn:admin',
  };
}

const LABELS = {
  'app.kubernetes.io/name': 'cairn',
  'app.kubernetes.io/component': 'controller',
  'app.kubernetes.io/part-of': 'cairn',
};

/**
 * Two ClusterRoles: `cairn-controller` holds only what Cairn needs for its own objects;
 * `cairn-apply` holds every right on every kind, because applying arbitrary manifests from Git
 * needs it. Bind a narrower role instead to limit what Applications may change.
 */
export function installManifests(partial: Partial<InstallOptions> = {}): KubeObject[] {
  const o = { ...defaultInstallOptions(), ...partial };
  const ns = o.namespace;
  const meta = (name: string, namespaced = true) => ({
    name,
    ...(namespaced ? { namespace: ns } : {}),
    labels: LABELS,
  });
  return [...controllerManifests(o, meta), ...(o.server ? serverManifests(o) : [])];
}

type Meta = (name: string, namespaced?: boolean) => Record<string, unknown>;

function controllerManifests(o: InstallOptions, meta: Meta): KubeObject[] {
  const ns = o.namespace;
  const controller = [{ kind: 'ServiceAccount', name: 'cairn-controller', namespace: ns }];
  return [
    ...customResourceDefinitions(),
    { apiVersion: 'v1', kind: 'Namespace', metadata: meta(ns, false) },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('cairn-controller') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('cairn-controller', false),
      rules: [
        {
          apiGroups: [GROUP],
          resources: ['gitrepositories', 'applications', 'receivers'],
          verbs: ['get', 'list', 'watch', 'update', 'patch'],
        },
        {
          apiGroups: [GROUP],
          resources: ['gitrepositories/status', 'applications/status', 'receivers/status'],
          verbs: ['get', 'update', 'patch'],
        },
        { apiGroups: [GROUP], resources: ['applications/finalizers'], verbs: ['update'] },
        { apiGroups: [''], resources: ['secrets'], verbs: ['get'] },
        { apiGroups: [''], resources: ['events'], verbs: ['create', 'patch'] },
        { apiGroups: ['events.k8s.io'], resources: ['events'], verbs: ['create', 'patch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: {
        ...meta('cairn-apply', false),
        annotations: {
          'cairn.dev/description':
            'Every right on every kind: what applying arbitrary manifests from Git requires. Replace the binding to narrow it.',
        },
      },
      rules: [
        { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
        { nonResourceURLs: ['*'], verbs: ['*'] },
      ],
    },
    ...['cairn-controller', 'cairn-apply'].map((role) =>
      binding('ClusterRoleBinding', meta(role, false), role, controller),
    ),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('cairn-leader-election'),
      rules: [
        {
          apiGroups: ['coordination.k8s.io'],
          resources: ['leases'],
          verbs: ['get', 'list', 'watch', 'create', 'update', 'patch'],
        },
      ],
    },
    binding('RoleBinding', meta('cairn-leader-election'), 'cairn-leader-election', controller),
    ...workload(o, meta, {
      component: 'controller',
      replicas: o.replicas,
      port: o.port,
      args: [
        'controller',
        `--listen=0.0.0.0:${o.port}`,
        `--leader-election-namespace=${ns}`,
        '--cache-dir=/var/cache/cairn',
      ],
      env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
      readyPath: '/readyz',
      resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
    }),
  ];
}

/** Where the in-cluster server keeps the key its session cookies are signed with. */
export const SESSION_KEY_SECRET = 'cairn-server-session';

const SERVER_LABELS = { ...LABELS, 'app.kubernetes.io/component': 'server' };

/**
 * `cairn server` in the cluster (ADR 13). Its ClusterRole `cairn-server` holds what the server
 * asks as itself: who a token belongs to (TokenReview), what a person may do
 * (SubjectAccessReview), acting as them (impersonation, ServiceAccounts included, for people who
 * log in with a ServiceAccount token), and the Application watch the lists come from. Everything
 * else is asked as the person. Diffs dry-run as the controller's ServiceAccount (`--diff-as`), so
 * they show what the controller would apply, with its rights rather than the server's. In its own
 * namespace it reads the admin Secret and keeps its session key in a Secret it makes when missing.
 */
export function serverManifests(partial: Partial<InstallOptions> = {}): KubeObject[] {
  const o = { ...defaultInstallOptions(), ...partial };
  const ns = o.namespace;
  const meta = (name: string, namespaced = true) => ({
    name,
    ...(namespaced ? { namespace: ns } : {}),
    labels: SERVER_LABELS,
  });
  const subjects = [{ kind: 'ServiceAccount', name: 'cairn-server', namespace: ns }];
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta('cairn-server') },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: meta('cairn-server', false),
      rules: [
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: ['authorization.k8s.io'], resources: ['subjectaccessreviews'], verbs: ['create'] },
        { apiGroups: [''], resources: ['users', 'groups', 'serviceaccounts'], verbs: ['impersonate'] },
        { apiGroups: [GROUP], resources: ['applications'], verbs: ['get', 'list', 'watch'] },
      ],
    },
    binding('ClusterRoleBinding', meta('cairn-server', false), 'cairn-server', subjects),
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('cairn-server'),
      rules: [
        {
          apiGroups: [''],
          resources: ['secrets'],
          resourceNames: ['cairn-admin', SESSION_KEY_SECRET],
          verbs: ['get'],
        },
        // The session key is made by the first server that finds none (create takes no names).
        { apiGroups: [''], resources: ['secrets'], verbs: ['create'] },
      ],
    },
    binding('RoleBinding', meta('cairn-server'), 'cairn-server', subjects),
    ...workload(o, meta, {
      component: 'server',
      replicas: 1,
      port: o.serverPort,
      args: [
        'server',
        `--listen=0.0.0.0:${o.serverPort}`,
        `--namespace=${ns}`,
        `--admin-user=${o.adminUser}`,
        `--diff-as=system:serviceaccount:${ns}:cairn-controller`,
        `--session-key-secret=${SESSION_KEY_SECRET}`,
        '--cache-dir=/var/cache/cairn',
      ],
      readyPath: '/healthz',
      resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
    }),
  ];
}

/**
 * The Deployment of one `cairn` command and its Service: the ServiceAccount of the same name, no
 * root, no privilege escalation, a read-only root file system with an emptyDir for the Git cache
 * and one for /tmp.
 */
function workload(
  o: InstallOptions,
  meta: Meta,
  w: {
    component: 'controller' | 'server';
    replicas: number;
    port: number;
    args: string[];
    env?: unknown[];
    readyPath: string;
    resources: Record<string, Record<string, string>>;
  },
): KubeObject[] {
  const name = `cairn-${w.component}`;
  const selector = { 'app.kubernetes.io/name': 'cairn', 'app.kubernetes.io/component': w.component };
  return [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name),
      spec: {
        replicas: w.replicas,
        selector: { matchLabels: selector },
        template: {
          metadata: { labels: { ...LABELS, 'app.kubernetes.io/component': w.component } },
          spec: {
            serviceAccountName: name,
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              fsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: w.component,
                image: o.image,
                args: w.args,
                ...(w.env ? { env: w.env } : {}),
                ports: [{ name: 'http', containerPort: w.port }],
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 20 },
                readinessProbe: { httpGet: { path: w.readyPath, port: 'http' }, periodSeconds: 10 },
                resources: w.resources,
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                volumeMounts: [
                  { name: 'cache', mountPath: '/var/cache/cairn' },
                  { name: 'tmp', mountPath: '/tmp' },
                ],
              },
            ],
            volumes: [
              { name: 'cache', emptyDir: {} },
              { name: 'tmp', emptyDir: {} },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(name),
      spec: { selector, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}

/** A ClusterRoleBinding to a ClusterRole, or a RoleBinding to a Role, of the same name or another. */
function binding(
  kind: 'ClusterRoleBinding' | 'RoleBinding',
  metadata: Record<string, unknown>,
  role: string,
  subjects: Record<string, string>[],
): KubeObject {
  return {
    apiVersion: 'rbac.authorization.k8s.io/v1',
    kind,
    metadata,
    roleRef: {
      apiGroup: 'rbac.authorization.k8s.io',
      kind: kind === 'RoleBinding' ? 'Role' : 'ClusterRole',
      name: role,
    },
    subjects,
  };
}
