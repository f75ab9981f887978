// The benchmark workload: applications of 20 objects each (1 Deployment with 2 replicas, 1 Service,
// 1 ServiceAccount, 1 Role, 1 RoleBinding, 12 ConfigMaps, 3 Secrets).
import type { KubeObject } from '../src/cluster/objects.ts';

export const OBJECTS_PER_APP = 20;

export function appObjects(app: string, namespace?: string): KubeObject[] {
  const meta = (name: string) => ({ name, ...(namespace ? { namespace } : {}), labels: { app } });
  const objects: KubeObject[] = [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(app),
      spec: {
        replicas: 2,
        selector: { matchLabels: { app } },
        template: {
          metadata: { labels: { app } },
          spec: {
            serviceAccountName: app,
            containers: [
              {
                name: 'app',
                image: 'nginx:1.27',
                ports: [{ containerPort: 80 }],
                envFrom: [{ configMapRef: { name: `${app}-config-0` } }],
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: meta(app),
      spec: { selector: { app }, ports: [{ port: 80, targetPort: 80 }] },
    },
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(app) },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'Role',
      metadata: meta(app),
      rules: [{ apiGroups: [''], resources: ['configmaps'], verbs: ['get', 'list', 'watch'] }],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: meta(app),
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: app },
      subjects: [{ kind: 'ServiceAccount', name: app, ...(namespace ? { namespace } : {}) }],
    },
  ];
  for (let i = 0; i < 12; i++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: meta(`${app}-config-${i}`),
      data: { index: String(i), mode: 'production', payload: 'x'.repeat(256) },
    });
  }
  for (let i = 0; i < 3; i++) {
    objects.push({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: meta(`${app}-secret-${i}`),
      type: 'Opaque',
      data: { token: Buffer.from(`${app}-token-${i}`).toString('base64') },
    });
  }
  return objects;
}

/** `count` applications' objects with unique names, all in one namespace. */
export function workload(count: number, namespace?: string): KubeObject[] {
  return Array.from({ length: count }, (_, i) =>
    appObjects(`app-${String(i).padStart(4, '0')}`, namespace),
  ).flat();
}
