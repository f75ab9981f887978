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
}

export function defaultInstallOptions(): InstallOptions {
  return { namespace: 'cairn-system', image: `cairn:${CAIRN_VERSION}`, port: 8080, replicas: 1 };
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
