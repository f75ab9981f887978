// What a person may do, asked of the API server with SubjectAccessReview and remembered briefly
// per (person, namespace, verb, resource), so the UI allows exactly what kubectl would.
import type { KubeClient } from '../../cluster/client.ts';
import type { Person } from './identity.ts';

export interface AccessQuestion {
  verb: string;
  group: string;
  resource: string;
  /** Undefined: across every namespace. */
  namespace?: string;
  name?: string;
}

export interface AccessReviewerOptions {
  ttlMs: number;
  maxEntries: number;
}

export function defaultAccessReviewerOptions(): AccessReviewerOptions {
  return { ttlMs: 10_000, maxEntries: 50_000 };
}

export class AccessReviewer {
  readonly #client: KubeClient;
  readonly #options: AccessReviewerOptions;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; allowed: Promise<boolean> }>();

  constructor(client: KubeClient, options: AccessReviewerOptions, now: () => number) {
    this.#client = client;
    this.#options = options;
    this.#now = now;
  }

  /** Reviews sent so far (for tests). */
  reviews = 0;

  allowed(person: Person, q: AccessQuestion): Promise<boolean> {
    const key = JSON.stringify([
      person.user,
      [...person.groups].sort(),
      q.namespace ?? '',
      q.verb,
      q.group,
      q.resource,
      q.name ?? '',
    ]);
    const now = this.#now();
    const hit = this.#cache.get(key);
    if (hit && now - hit.at < this.#options.ttlMs) return hit.allowed;
    const allowed = this.#review(person, q);
    allowed.catch(() => this.#cache.delete(key));
    this.#cache.delete(key);
    this.#cache.set(key, { at: now, allowed });
    if (this.#cache.size > this.#options.maxEntries) this.#cache.delete(this.#cache.keys().next().value!);
    return allowed;
  }

  async #review(person: Person, q: AccessQuestion): Promise<boolean> {
    this.reviews++;
    const review = await this.#client.request<{ status?: { allowed?: boolean } }>(
      'POST',
      '/apis/authorization.k8s.io/v1/subjectaccessreviews',
      {
        body: {
          apiVersion: 'authorization.k8s.io/v1',
          kind: 'SubjectAccessReview',
          spec: {
            user: person.user,
            groups: person.groups,
            resourceAttributes: {
              verb: q.verb,
              group: q.group,
              resource: q.resource,
              ...(q.namespace ? { namespace: q.namespace } : {}),
              ...(q.name ? { name: q.name } : {}),
            },
          },
        },
        subject: 'SubjectAccessReview',
      },
    );
    return review.status?.allowed === true;
  }
}
