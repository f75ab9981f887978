import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { HistoryEntry } from '../api/types.ts';
import { subjectOf } from './application.ts';

const A = 'a'.repeat(40);
const B = 'b'.repeat(40);
const entry = (id: number, revision: string, subject?: string): HistoryEntry => ({
  id,
  revision,
  startedAt: '2026-11-26T10:00:00Z',
  finishedAt: '2026-11-26T10:00:01Z',
  result: 'Succeeded',
  initiator: 'automated',
  ...(subject === undefined ? {} : { subject }),
});
const artifact = { ref: 'refs/heads/main', commit: B, revision: `main@sha1:${B}`, lastUpdateTime: '' };

test("a history entry's subject comes from the repository's commit, or from an earlier entry at it", () => {
  assert.deepEqual(subjectOf(B, { ...artifact, subject: 'bump cart' }, []), { subject: 'bump cart' });
  // A rollback to an older commit: the repository's head is another commit.
  assert.deepEqual(subjectOf(A, { ...artifact, subject: 'bump cart' }, [entry(1, A, 'first'), entry(2, B)]), {
    subject: 'first',
  });
  assert.deepEqual(subjectOf(A, { ...artifact, subject: 'bump cart' }, [entry(1, A)]), {});
  // A status written before subjects were recorded has none to give.
  assert.deepEqual(subjectOf(B, artifact, [entry(1, B, 'stale')]), {});
  assert.deepEqual(subjectOf(A, undefined, []), {});
});
