import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  ControllerMetrics,
  DriftAction,
  FetchResult,
  ReconcileResult,
  SyncResult,
  nodeProcessProbe,
  type ProcessProbe,
} from './controller-metrics.ts';

const fixedProbe: ProcessProbe = {
  cpuSeconds: () => 12.5,
  residentMemoryBytes: () => 104857600,
  startTimeSeconds: () => 1767225600,
  heapUsedBytes: () => 2048,
  heapTotalBytes: () => 4096,
};

function lines(text: string, prefix: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(prefix));
}

test("Cairn's metric names follow the Prometheus conventions", () => {
  const types = new Map(
    lines(new ControllerMetrics(fixedProbe).render(), '# TYPE ').map((l) => {
      const [, , name, type] = l.split(' ');
      return [name ?? '', type ?? ''];
    }),
  );
  assert.deepEqual(Object.fromEntries(types), {
    cairn_application_info: 'gauge',
    cairn_drift_detections_total: 'counter',
    cairn_git_fetch_duration_seconds: 'histogram',
    cairn_reconcile_duration_seconds: 'histogram',
    cairn_syncs_total: 'counter',
    cairn_workqueue_depth: 'gauge',
    cairn_workqueue_queue_duration_seconds: 'histogram',
    nodejs_heap_size_total_bytes: 'gauge',
    nodejs_heap_size_used_bytes: 'gauge',
    process_cpu_seconds_total: 'counter',
    process_resident_memory_bytes: 'gauge',
    process_start_time_seconds: 'gauge',
  });
  for (const [name, type] of types) {
    assert.equal(type === 'counter', name.endsWith('_total'), `${name}: only counters end in _total`);
    if (type === 'histogram') assert.match(name, /_seconds$/, `${name}: durations are in seconds`);
    if (name.includes('bytes')) assert.match(name, /_bytes$/, `${name}: the unit is the suffix`);
    assert.match(name, /^(cairn|process|nodejs)_[a-z_]+$/);
  }
});

test('process figures are read from the probe at scrape time', () => {
  const text = new ControllerMetrics(fixedProbe).render();
  assert.deepEqual(lines(text, 'process_').concat(lines(text, 'nodejs_')), [
    'process_cpu_seconds_total 12.5',
    'process_resident_memory_bytes 104857600',
    'process_start_time_seconds 1767225600',
    'nodejs_heap_size_total_bytes 4096',
    'nodejs_heap_size_used_bytes 2048',
  ]);
});

test('the Node.js probe reports this process', () => {
  const probe = nodeProcessProbe();
  const now = Date.now() / 1000;
  assert.ok(probe.cpuSeconds() > 0);
  assert.ok(probe.residentMemoryBytes() > 1024 * 1024);
  assert.ok(probe.heapUsedBytes() > 0 && probe.heapUsedBytes() <= probe.heapTotalBytes());
  const start = probe.startTimeSeconds();
  assert.ok(Math.abs(start - (now - process.uptime())) < 5, `start ${start} is when this process began`);
});

test('reconciles, syncs, drift, fetches and queue depth land in their series', () => {
  const m = new ControllerMetrics(fixedProbe);
  m.recordReconcile('Application', ReconcileResult.Success, 0.2);
  m.recordReconcile('Application', ReconcileResult.Success, 3);
  m.recordReconcile('GitRepository', ReconcileResult.Error, 0.01);
  m.recordSync(SyncResult.Succeeded);
  m.recordSync(SyncResult.Failed);
  m.recordSync(SyncResult.Succeeded);
  m.recordDrift(DriftAction.Reverted, 2);
  m.recordGitFetch(FetchResult.Success, 0.4);
  m.setQueueDepth('application', 7);
  const text = m.render();
  assert.deepEqual(lines(text, 'cairn_reconcile_duration_seconds_count'), [
    'cairn_reconcile_duration_seconds_count{kind="Application",result="success"} 2',
    'cairn_reconcile_duration_seconds_count{kind="GitRepository",result="error"} 1',
  ]);
  assert.deepEqual(lines(text, 'cairn_reconcile_duration_seconds_sum'), [
    'cairn_reconcile_duration_seconds_sum{kind="Application",result="success"} 3.2',
    'cairn_reconcile_duration_seconds_sum{kind="GitRepository",result="error"} 0.01',
  ]);
  assert.ok(
    text.includes(
      'cairn_reconcile_duration_seconds_bucket{kind="Application",result="success",le="0.25"} 1\n',
    ),
  );
  assert.ok(
    text.includes('cairn_reconcile_duration_seconds_bucket{kind="Application",result="success",le="5"} 2\n'),
  );
  assert.deepEqual(lines(text, 'cairn_syncs_total'), [
    'cairn_syncs_total{result="failed"} 1',
    'cairn_syncs_total{result="succeeded"} 2',
  ]);
  assert.deepEqual(lines(text, 'cairn_drift_detections_total'), [
    'cairn_drift_detections_total{action="reverted"} 2',
  ]);
  assert.deepEqual(lines(text, 'cairn_git_fetch_duration_seconds_count'), [
    'cairn_git_fetch_duration_seconds_count{result="success"} 1',
  ]);
  assert.deepEqual(lines(text, 'cairn_workqueue_depth'), ['cairn_workqueue_depth{queue="application"} 7']);
});

test('the info gauge keeps one series per Application, replaced on change and removed on delete', () => {
  const m = new ControllerMetrics(fixedProbe);
  const cart = { namespace: 'shop', name: 'cart', syncStatus: 'OutOfSync', healthStatus: 'Progressing' };
  m.setApplicationInfo({ ...cart, revision: 'main@sha1:aaa' });
  m.setApplicationInfo({
    namespace: 'shop',
    name: 'web',
    syncStatus: 'Synced',
    healthStatus: 'Healthy',
    revision: 'v1',
  });
  m.setApplicationInfo({ ...cart, syncStatus: 'Synced', healthStatus: 'Healthy', revision: 'main@sha1:bbb' });
  assert.deepEqual(lines(m.render(), 'cairn_application_info{'), [
    'cairn_application_info{namespace="shop",name="cart",sync_status="Synced",health_status="Healthy",revision="main@sha1:bbb"} 1',
    'cairn_application_info{namespace="shop",name="web",sync_status="Synced",health_status="Healthy",revision="v1"} 1',
  ]);
  m.removeApplication('shop', 'cart');
  m.removeApplication('shop', 'gone');
  assert.deepEqual(lines(m.render(), 'cairn_application_info{'), [
    'cairn_application_info{namespace="shop",name="web",sync_status="Synced",health_status="Healthy",revision="v1"} 1',
  ]);
});
