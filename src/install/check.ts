// `cairn check`: is this cluster one Cairn can be installed into (`--pre`), and is the installed
// Cairn whole? Each check is a line of a checklist; the decisions are pure, the reads are here.
import { installManifests } from '../api/install.ts';
import { isForbidden, type KubeClient } from '../cluster/client.ts';
import { describeRef, refOf, type KubeObject } from '../cluster/objects.ts';
import { healthOf } from '../health/registry.ts';

export const CheckStatus = { Pass: 'pass', Warn: 'warn', Fail: 'fail' } as const;
export type CheckStatus = (typeof CheckStatus)[keyof typeof CheckStatus];

export interface CheckResult {
  name: string;
  status: CheckStatus;
  message: string;
}

export interface CheckReport {
  ok: boolean;
  checks: CheckResult[];
}

export interface CheckOptions {
  /** Before installing: reachability, version, and the caller's rights to install. */
  pre: boolean;
  namespace: string;
}

/** The oldest Kubernetes minor Cairn supports: CEL validation rules in CRDs are GA from 1.29. */
export const MINIMUM_KUBERNETES = { major: 1, minor: 29 } as const;

export function versionCheck(info: { major?: string; minor?: string; gitVersion?: string }): CheckResult {
  const major = Number.parseInt(info.major ?? '', 10);
  const minor = Number.parseInt(info.minor ?? '', 10);
  const shown = info.gitVersion ?? `${info.major}.${info.minor}`;
  const wanted = `${MINIMUM_KUBERNETES.major}.${MINIMUM_KUBERNETES.minor}`;
  const name = 'Kubernetes version';
  if (!Number.isFinite(major) || !Number.isFinite(minor))
    return {
      name,
      status: CheckStatus.Warn,
      message: `cannot read the version (${shown}); ${wanted} or newer is needed`,
    };
  const ok =
    major > MINIMUM_KUBERNETES.major ||
    (major === MINIMUM_KUBERNETES.major && minor >= MINIMUM_KUBERNETES.minor);
  return ok
    ? { name, status: CheckStatus.Pass, message: `${shown} (${wanted} or newer is needed)` }
    : { name, status: CheckStatus.Fail, message: `${shown} is too old: upgrade to ${wanted} or newer` };
}

/** One right to ask the API server about. */
export interface AccessNeed {
  group: string;
  resource: string;
  verb: string;
  namespace?: string;
  name?: string;
}

export function describeNeed(n: AccessNeed): string {
  const what = `${n.resource}${n.group ? `.${n.group}` : ''}${n.name ? `/${n.name}` : ''}`;
  return `${n.verb} ${what}${n.namespace ? ` in ${n.namespace}` : ''}`;
}

/**
 * What installing needs: create and patch (server-side apply) for every kind the manifests hold,
 * and the right to grant the controller's roles (bind and escalate).
 */
export function installNeeds(
  manifests: readonly KubeObject[],
  resourceOf: (obj: KubeObject) => { group: string; resource: string },
): AccessNeed[] {
  const needs: AccessNeed[] = [];
  const seen = new Set<string>();
  for (const obj of manifests) {
    const { group, resource } = resourceOf(obj);
    const namespace = obj.metadata.namespace;
    for (const verb of ['create', 'patch']) {
      const need = { group, resource, verb, ...(namespace ? { namespace } : {}) };
      const key = describeNeed(need);
      if (!seen.has(key)) {
        seen.add(key);
        needs.push(need);
      }
    }
  }
  for (const role of manifests.filter((o) => o.kind === 'ClusterRole')) {
    for (const verb of ['bind', 'escalate'])
      needs.push({
        group: 'rbac.authorization.k8s.io',
        resource: 'clusterroles',
        verb,
        name: role.metadata.name!,
      });
  }
  return needs;
}

interface PolicyRule {
  apiGroups?: string[];
  resources?: string[];
  verbs: string[];
}

/** What the controller runs with: every right its own roles grant (not the apply role's wildcard). */
export function controllerNeeds(manifests: readonly KubeObject[], namespace: string): AccessNeed[] {
  const needs: AccessNeed[] = [];
  for (const obj of manifests) {
    if (!['ClusterRole', 'Role'].includes(obj.kind) || obj.metadata.name === 'cairn-apply') continue;
    for (const rule of (obj.rules as PolicyRule[] | undefined) ?? []) {
      for (const group of rule.apiGroups ?? [])
        for (const full of rule.resources ?? [])
          for (const verb of rule.verbs)
            needs.push({
              group,
              resource: full,
              verb,
              ...(obj.kind === 'Role' ? { namespace } : {}),
            });
    }
  }
  // What cairn-apply is for: applying any kind from Git.
  needs.push({ group: 'apps', resource: 'deployments', verb: 'patch' });
  return needs;
}

/** One checklist line per object kind (or named object): the verbs allowed, or those denied and what to do. */
export function accessChecks(
  title: string,
  needs: readonly AccessNeed[],
  allowed: readonly boolean[],
  advice: string,
): CheckResult[] {
  const byTarget = new Map<string, { verbs: string[]; denied: string[] }>();
  needs.forEach((need, i) => {
    const target = describeNeed({ ...need, verb: '' }).trim();
    const entry = byTarget.get(target) ?? { verbs: [], denied: [] };
    entry.verbs.push(need.verb);
    if (!allowed[i]) entry.denied.push(need.verb);
    byTarget.set(target, entry);
  });
  return [...byTarget].map(([target, { verbs, denied }]) =>
    denied.length === 0
      ? { name: `${title} ${verbs.join(', ')}`, status: CheckStatus.Pass, message: target }
      : {
          name: `${title} ${verbs.join(', ')}`,
          status: CheckStatus.Fail,
          message: `${target}: ${denied.length === verbs.length ? 'denied' : `${denied.join(', ')} denied`} (${advice})`,
        },
  );
}

/** The verdict over all checks: a failure fails the report; warnings do not. */
export function summarise(checks: CheckResult[]): CheckReport {
  return { ok: checks.every((c) => c.status !== CheckStatus.Fail), checks };
}

interface ReviewStatus {
  status?: { allowed?: boolean; denied?: boolean; reason?: string };
}

async function review(
  client: KubeClient,
  need: AccessNeed,
  subject?: { user: string; groups: string[] },
): Promise<boolean> {
  const [resource, subresource] = need.resource.split('/');
  const attributes = {
    group: need.group,
    resource,
    verb: need.verb,
    ...(subresource ? { subresource } : {}),
    ...(need.namespace ? { namespace: need.namespace } : {}),
    ...(need.name ? { name: need.name } : {}),
  };
  const kind = subject ? 'SubjectAccessReview' : 'SelfSubjectAccessReview';
  const answer = await client.request<ReviewStatus>(
    'POST',
    `/apis/authorization.k8s.io/v1/${subject ? 'subjectaccessreviews' : 'selfsubjectaccessreviews'}`,
    {
      body: {
        apiVersion: 'authorization.k8s.io/v1',
        kind,
        spec: { resourceAttributes: attributes, ...(subject ? subject : {}) },
      },
      subject: `${kind} for ${describeNeed(need)}`,
    },
  );
  return answer.status?.allowed === true;
}

/** Checks, in order; stops after the first check when the cluster cannot be reached. */
export async function runChecks(client: KubeClient, options: CheckOptions): Promise<CheckReport> {
  const checks: CheckResult[] = [];
  let info: { major?: string; minor?: string; gitVersion?: string };
  try {
    info = await client.request('GET', '/version', { subject: 'GET /version' });
    checks.push({ name: 'cluster reachable', status: CheckStatus.Pass, message: client.connection.server });
  } catch (e) {
    checks.push({
      name: 'cluster reachable',
      status: CheckStatus.Fail,
      message: `${client.connection.server}: ${(e as Error).message.split('\n')[0]}: check that the cluster is running, or choose another with --kubeconfig or --context`,
    });
    return summarise(checks);
  }
  checks.push(versionCheck(info));
  const manifests = installManifests({ namespace: options.namespace });

  if (options.pre) {
    const resources = new Map<string, { group: string; resource: string }>();
    for (const obj of manifests) {
      const info = await client.resourceFor(obj.apiVersion, obj.kind);
      resources.set(`${obj.apiVersion}/${obj.kind}`, { group: info.group, resource: info.resource });
    }
    const needs = installNeeds(manifests, (o) => resources.get(`${o.apiVersion}/${o.kind}`)!);
    const answers: boolean[] = [];
    for (const need of needs) answers.push(await review(client, need));
    checks.push(
      ...accessChecks('may', needs, answers, 'ask for cluster-admin, or install with an account that has it'),
    );
    return summarise(checks);
  }

  for (const crd of manifests.filter((o) => o.kind === 'CustomResourceDefinition')) {
    const live = await client.getOptional<
      KubeObject & { status?: { conditions?: { type: string; status: string }[] } }
    >(refOf(crd));
    const established = live?.status?.conditions?.some(
      (c) => c.type === 'Established' && c.status === 'True',
    );
    checks.push({
      name: `CRD ${crd.metadata.name}`,
      status: established ? CheckStatus.Pass : CheckStatus.Fail,
      message: !live
        ? 'not installed: run cairn install'
        : established
          ? 'established'
          : 'not established yet',
    });
  }
  const deployment = manifests.find((o) => o.kind === 'Deployment')!;
  const live = await client.getOptional(refOf(deployment));
  const health = healthOf(live);
  checks.push({
    name: 'controller',
    status: !live ? CheckStatus.Fail : health.status === 'Healthy' ? CheckStatus.Pass : CheckStatus.Fail,
    message: !live
      ? `${describeRef(refOf(deployment))} not found: run cairn install`
      : `${describeRef(refOf(deployment))} ${health.status}${health.message ? `: ${health.message}` : ''}`,
  });
  const account = `system:serviceaccount:${options.namespace}:cairn-controller`;
  const subject = {
    user: account,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${options.namespace}`, 'system:authenticated'],
  };
  const needs = controllerNeeds(manifests, options.namespace);
  try {
    const answers: boolean[] = [];
    for (const need of needs) answers.push(await review(client, need, subject));
    checks.push(
      ...accessChecks(
        'controller may',
        needs,
        answers,
        `${account} needs it: run cairn install to restore its roles`,
      ),
    );
  } catch (e) {
    if (!isForbidden(e)) throw e;
    checks.push({
      name: 'controller permissions',
      status: CheckStatus.Warn,
      message: `cannot check: creating a SubjectAccessReview is not allowed for you`,
    });
  }
  return summarise(checks);
}
