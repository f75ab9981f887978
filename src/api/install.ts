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
    ...['cairn-controller', 'cairn-apply'].map((role) => ({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta(role, false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role },
      subjects: [{ kind: 'ServiceAccount', name: 'cairn-controller', namespace: ns }],
    })),
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
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('cairn-leader-election'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cairn-leader-election' },
      subjects: [{ kind: 'ServiceAccount', name: 'cairn-controller', namespace: ns }],
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('cairn-controller'),
      spec: {
        replicas: o.replicas,
        selector: {
          matchLabels: { 'app.kubernetes.io/name': 'cairn', 'app.kubernetes.io/component': 'controller' },
        },
        template: {
          metadata: { labels: LABELS },
          spec: {
            serviceAccountName: 'cairn-controller',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              fsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'controller',
                image: o.image,
                args: [
                  'controller',
                  `--listen=0.0.0.0:${o.port}`,
                  `--leader-election-namespace=${ns}`,
                  '--cache-dir=/var/cache/cairn',
                ],
                env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
                ports: [{ name: 'http', containerPort: o.port }],
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 20 },
                readinessProbe: { httpGet: { path: '/readyz', port: 'http' }, periodSeconds: 10 },
                resources: { requests: { cpu: '100m', memory: '256Mi' }, limits: { memory: '1Gi' } },
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
      metadata: meta('cairn-controller'),
      spec: {
        selector: { 'app.kubernetes.io/name': 'cairn', 'app.kubernetes.io/component': 'controller' },
        ports: [{ name: 'http', port: 80, targetPort: 'http' }],
      },
    },
  ];
}

const SERVER_LABELS = { ...LABELS, 'app.kubernetes.io/component': 'server' };
const SERVER_SELECTOR = { 'app.kubernetes.io/name': 'cairn', 'app.kubernetes.io/component': 'server' };

/**
 * `cairn server` in the cluster (ADR 13). Its ClusterRole `cairn-server` holds what the server
 * asks as itself: who a token belongs to (TokenReview), what a person may do
 * (SubjectAccessReview), acting as them (impersonation, ServiceAccounts included, for people who
 * log in with a ServiceAccount token), and the Application watch the lists come from. Everything
 * else is asked as the person. Diffs dry-run as the controller's ServiceAccount (`--diff-as`), so
 * they show what the controller would apply, with its rights rather than the server's.
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
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: meta('cairn-server', false),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'cairn-server' },
      subjects,
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta('cairn-server'),
      rules: [{ apiGroups: [''], resources: ['secrets'], resourceNames: ['cairn-admin'], verbs: ['get'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta('cairn-server'),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'cairn-server' },
      subjects,
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta('cairn-server'),
      spec: {
        replicas: 1,
        selector: { matchLabels: SERVER_SELECTOR },
        template: {
          metadata: { labels: SERVER_LABELS },
          spec: {
            serviceAccountName: 'cairn-server',
            securityContext: {
              runAsNonRoot: true,
              runAsUser: 65532,
              runAsGroup: 65532,
              fsGroup: 65532,
              seccompProfile: { type: 'RuntimeDefault' },
            },
            containers: [
              {
                name: 'server',
                image: o.image,
                args: [
                  'server',
                  `--listen=0.0.0.0:${o.serverPort}`,
                  `--namespace=${ns}`,
                  `--admin-user=${o.adminUser}`,
                  `--diff-as=system:serviceaccount:${ns}:cairn-controller`,
                  '--cache-dir=/var/cache/cairn',
                ],
                ports: [{ name: 'http', containerPort: o.serverPort }],
                livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 20 },
                readinessProbe: { httpGet: { path: '/healthz', port: 'http' }, periodSeconds: 10 },
                resources: { requests: { cpu: '50m', memory: '128Mi' }, limits: { memory: '512Mi' } },
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
      metadata: meta('cairn-server'),
      spec: { selector: SERVER_SELECTOR, ports: [{ name: 'http', port: 80, targetPort: 'http' }] },
    },
  ];
}
