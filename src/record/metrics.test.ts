import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MetricsRegistry, escapeLabelValue, formatValue } from './metrics.ts';

/** A small registry, filled in an order different from the rendered one. */
function demoRegistry(order: 'forward' | 'reverse'): MetricsRegistry {
  const r = new MetricsRegistry();
  const steps: (() => void)[] = [];
  const requests = r.counter({
    name: 'demo_requests_total',
    help: 'Requests handled.',
    labelNames: ['method', 'code'],
  });
  const temperature = r.gauge({ name: 'demo_temperature_celsius', help: 'Temperature.' });
  const latency = r.histogram({
    name: 'demo_latency_seconds',
    help: 'Latency.',
    labelNames: ['route'],
    buckets: [0.1, 1],
  });
  r.gauge({ name: 'demo_queue_depth', help: 'Declared, never set.', labelNames: ['queue'] });
  steps.push(
    () => requests.inc({ method: 'POST', code: '500' }, 3),
    () => requests.inc({ method: 'GET', code: '200' }),
    () => requests.inc({ code: '404', method: 'GET' }),
    () => requests.inc({ method: 'GET', code: '200' }),
    () => temperature.set({}, -3.5),
    () => latency.observe({ route: '/b' }, 0.1),
    () => latency.observe({ route: '/a' }, 3),
    () => latency.observe({ route: '/a' }, 0.0625),
    () => latency.observe({ route: '/a' }, 0.5),
  );
  for (const step of order === 'forward' ? steps : steps.reverse()) step();
  return r;
}

const DEMO_TEXT = `# HELP demo_latency_seconds Latency.
# TYPE demo_latency_seconds histogram
demo_latency_seconds_bucket{route="/a",le="0.1"} 1
demo_latency_seconds_bucket{route="/a",le="1"} 2
demo_latency_seconds_bucket{route="/a",le="+Inf"} 3
demo_latency_seconds_sum{route="/a"} 3.5625
demo_latency_seconds_count{route="/a"} 3
demo_latency_seconds_bucket{route="/b",le="0.1"} 1
demo_latency_seconds_bucket{route="/b",le="1"} 1
demo_latency_seconds_bucket{route="/b",le="+Inf"} 1
demo_latency_seconds_sum{route="/b"} 0.1
demo_latency_seconds_count{route="/b"} 1
# HELP demo_queue_depth Declared, never set.
# TYPE demo_queue_depth gauge
# HELP demo_requests_total Requests handled.
# TYPE demo_requests_total counter
demo_requests_total{method="GET",code="200"} 2
demo_requests_total{method="GET",code="404"} 1
demo_requests_total{method="POST",code="500"} 3
# HELP demo_temperature_celsius Temperature.
# TYPE demo_temperature_celsius gauge
demo_temperature_celsius -3.5
`;

test('a small registry renders exactly, families by name and series by label values', () => {
  assert.equal(demoRegistry('forward').render(), DEMO_TEXT);
});

test('the output does not depend on the order things happened in', () => {
  const r = demoRegistry('reverse');
  assert.equal(r.render(), DEMO_TEXT);
  assert.equal(r.render(), DEMO_TEXT, 'rendering twice gives the same text');
});

test('an empty registry renders nothing; unlabelled metrics start at zero', () => {
  assert.equal(new MetricsRegistry().render(), '');
  const r = new MetricsRegistry();
  r.counter({ name: 'a_total', help: 'A.' });
  r.histogram({ name: 'b_seconds', help: 'B.', buckets: [1] });
  assert.equal(
    r.render(),
    [
      '# HELP a_total A.',
      '# TYPE a_total counter',
      'a_total 0',
      '# HELP b_seconds B.',
      '# TYPE b_seconds histogram',
      'b_seconds_bucket{le="1"} 0',
      'b_seconds_bucket{le="+Inf"} 0',
      'b_seconds_sum 0',
      'b_seconds_count 0',
      '',
    ].join('\n'),
  );
});

test('label values escape backslash, double quote and newline; help escapes backslash and newline', () => {
  const r = new MetricsRegistry();
  const g = r.gauge({ name: 'x_info', help: 'Path C:\\tmp\nsecond "line"', labelNames: ['v'] });
  g.set({ v: 'a"b\\c\nd' }, 1);
  assert.equal(
    r.render(),
    '# HELP x_info Path C:\\\\tmp\\nsecond "line"\n# TYPE x_info gauge\nx_info{v="a\\"b\\\\c\\nd"} 1\n',
  );
  assert.equal(escapeLabelValue('plain'), 'plain');
  assert.equal(
    escapeLabelValue('<script>'),
    '<script>',
    'only the three characters of the format are escaped',
  );
});

test('histogram buckets are cumulative, inclusive of their bound, and end at the count', () => {
  const r = new MetricsRegistry();
  const h = r.histogram({ name: 'h_seconds', help: 'H.', buckets: [1, 2, 5] });
  for (const v of [0.5, 1, 1.5, 2, 2, 4, 100, -1]) h.observe({}, v);
  const buckets = r
    .render()
    .split('\n')
    .filter((l) => l.startsWith('h_seconds_bucket'));
  assert.deepEqual(buckets, [
    'h_seconds_bucket{le="1"} 3',
    'h_seconds_bucket{le="2"} 6',
    'h_seconds_bucket{le="5"} 7',
    'h_seconds_bucket{le="+Inf"} 8',
  ]);
  assert.deepEqual(h.get(), { count: 8, sum: 110 });
});

test('a gauge can be set per label set and removed', () => {
  const r = new MetricsRegistry();
  const g = r.gauge({ name: 'app_info', help: 'Apps.', labelNames: ['name'] });
  g.set({ name: 'a' }, 1);
  g.set({ name: 'b' }, 1);
  g.inc({ name: 'b' }, 2);
  g.dec({ name: 'b' });
  assert.equal(g.get({ name: 'b' }), 2);
  assert.equal(g.remove({ name: 'a' }), true);
  assert.equal(g.remove({ name: 'a' }), false, 'removing twice reports that nothing was there');
  assert.equal(g.seriesCount, 1);
  assert.equal(r.render(), '# HELP app_info Apps.\n# TYPE app_info gauge\napp_info{name="b"} 2\n');
});

test('values read at scrape time are read at every render', () => {
  const r = new MetricsRegistry();
  let cpu = 1.25;
  r.counterFunc({ name: 'process_cpu_seconds_total', help: 'CPU.' }, () => cpu);
  r.gaugeFunc({ name: 'process_resident_memory_bytes', help: 'RSS.' }, () => 4096);
  assert.match(r.render(), /^process_cpu_seconds_total 1\.25$/m);
  cpu = 2;
  assert.match(r.render(), /^process_cpu_seconds_total 2$/m);
  assert.match(r.render(), /^# TYPE process_cpu_seconds_total counter$/m);
  assert.match(r.render(), /^# TYPE process_resident_memory_bytes gauge$/m);
});

test('special values are written as Prometheus reads them', () => {
  assert.equal(formatValue(Infinity), '+Inf');
  assert.equal(formatValue(-Infinity), '-Inf');
  assert.equal(formatValue(NaN), 'NaN');
  assert.equal(formatValue(0.25), '0.25');
  assert.equal(formatValue(1e21), '1e+21');
  const r = new MetricsRegistry();
  r.gauge({ name: 'g', help: 'G.' }).set({}, -Infinity);
  assert.match(r.render(), /^g -Inf$/m);
});

test('programming errors are refused loudly', () => {
  const r = new MetricsRegistry();
  const c = r.counter({ name: 'c_total', help: 'C.', labelNames: ['a'] });
  assert.throws(() => c.inc({ a: 'x' }, -1), RangeError, 'a counter never goes down');
  assert.throws(() => c.inc({ a: 'x' }, NaN), RangeError);
  assert.throws(() => c.inc({} as { a: string }), /label a must be a string/);
  assert.throws(() => c.inc({ a: 'x', b: 'y' } as { a: string }), /unknown labels b/);
  assert.throws(() => r.counter({ name: 'c_total', help: 'again' }), /already registered/);
  assert.throws(() => r.gauge({ name: 'bad-name', help: 'x' }), /metric name/);
  assert.throws(() => r.gauge({ name: 'g1', help: 'x', labelNames: ['__reserved'] }), /label name/);
  assert.throws(() => r.gauge({ name: 'g2', help: 'x', labelNames: ['a', 'a'] }), /duplicate/);
  assert.throws(() => r.histogram({ name: 'h1', help: 'x', labelNames: ['le'], buckets: [1] }), /reserved/);
  assert.throws(() => r.histogram({ name: 'h2', help: 'x', buckets: [1, 1] }), /ascending/);
  assert.throws(() => r.histogram({ name: 'h3', help: 'x', buckets: [1, Infinity] }), /finite/);
  const h = r.histogram({ name: 'h4', help: 'x', buckets: [1] });
  assert.throws(() => h.observe({}, NaN), RangeError);
  assert.equal(c.get({ a: 'x' }), undefined, 'a refused increment creates no series');
});
