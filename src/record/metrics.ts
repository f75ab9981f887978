// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format 0.0.4. Ours rather than prom-client so that nothing is a module singleton
// (prom-client's default registry is one) and the output is sorted, hence testable byte for byte.

/** The Content-Type of `render()`'s output. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export const MetricType = { Counter: 'counter', Gauge: 'gauge', Histogram: 'histogram' } as const;
export type MetricType = (typeof MetricType)[keyof typeof MetricType];

/** One value per declared label name, no more, no fewer. */
export type LabelValues<L extends string> = Readonly<Record<L, string>>;

export interface MetricDefinition<L extends string> {
  name: string;
  help: string;
  labelNames?: readonly L[];
}

export interface HistogramDefinition<L extends string> extends MetricDefinition<L> {
  /** Upper bounds, strictly ascending and finite; `+Inf` is always added. */
  buckets: readonly number[];
}

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A sample value as Prometheus writes it: `+Inf`, `-Inf`, `NaN`, or the shortest decimal. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(help: string): string {
  return help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

/** `{a="x",b="y"}`, or nothing without labels. */
function labelText(names: readonly string[], values: readonly string[], extra?: [string, string]): string {
  const pairs = names.map((n, i) => `${n}="${escapeLabelValue(values[i] ?? '')}"`);
  if (extra) pairs.push(`${extra[0]}="${escapeLabelValue(extra[1])}"`);
  return pairs.length === 0 ? '' : `{${pairs.join(',')}}`;
}

function compareValues(a: readonly string[], b: readonly string[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i] ?? '';
    const y = b[i] ?? '';
    // Code-unit order, not locale order: the output must not depend on the machine.
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

interface Series<S> {
  values: string[];
  state: S;
}

/** The series of one metric family, keyed by their label values in declared order. */
class SeriesMap<L extends string, S> {
  readonly #metric: string;
  readonly #names: readonly L[];
  readonly #series = new Map<string, Series<S>>();

  constructor(metric: string, names: readonly L[]) {
    this.#metric = metric;
    this.#names = names;
  }

  #values(labels: LabelValues<L>): string[] {
    const given = Object.keys(labels);
    const values: string[] = [];
    for (const name of this.#names) {
      const value: unknown = labels[name];
      if (typeof value !== 'string') {
        throw new TypeError(`${this.#metric}: label ${name} must be a string, got ${typeof value}`);
      }
      values.push(value);
    }
    if (given.length !== this.#names.length) {
      const unknown = given.filter((g) => !(this.#names as readonly string[]).includes(g));
      throw new TypeError(`${this.#metric}: unknown labels ${unknown.join(', ')}`);
    }
    return values;
  }

  get(labels: LabelValues<L>): S | undefined {
    return this.#series.get(JSON.stringify(this.#values(labels)))?.state;
  }

  getOrCreate(labels: LabelValues<L>, create: () => S): S {
    const values = this.#values(labels);
    const key = JSON.stringify(values);
    let series = this.#series.get(key);
    if (!series) {
      series = { values, state: create() };
      this.#series.set(key, series);
    }
    return series.state;
  }

  delete(labels: LabelValues<L>): boolean {
    return this.#series.delete(JSON.stringify(this.#values(labels)));
  }

  clear(): void {
    this.#series.clear();
  }

  get size(): number {
    return this.#series.size;
  }

  sorted(): Series<S>[] {
    return [...this.#series.values()].sort((a, b) => compareValues(a.values, b.values));
  }
}

interface Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  /** Appends the sample lines, sorted. */
  samples(out: string[]): void;
}

interface Cell {
  value: number;
}

function checkDefinition(def: MetricDefinition<string>, reserved: readonly string[]): readonly string[] {
  if (!METRIC_NAME.test(def.name)) throw new TypeError(`metric name ${JSON.stringify(def.name)} is invalid`);
  const names = def.labelNames ?? [];
  for (const n of names) {
    if (!LABEL_NAME.test(n) || n.startsWith('__') || reserved.includes(n)) {
      throw new TypeError(`${def.name}: label name ${JSON.stringify(n)} is invalid or reserved`);
    }
  }
  if (new Set(names).size !== names.length) throw new TypeError(`${def.name}: duplicate label names`);
  return names;
}

/** Unlabelled metrics exist from the start (value 0), as the Go client does. */
const NO_LABELS = {} as LabelValues<never>;

/** What a counter and a gauge share: one number per series. */
abstract class ValueFamily<L extends string> implements Family {
  abstract readonly type: MetricType;
  readonly name: string;
  readonly help: string;
  readonly #names: readonly L[];
  readonly #series: SeriesMap<L, Cell>;

  constructor(def: MetricDefinition<L>) {
    this.#names = checkDefinition(def, []) as readonly L[];
    this.name = def.name;
    this.help = def.help;
    this.#series = new SeriesMap(def.name, this.#names);
    if (this.#names.length === 0) this.cell(NO_LABELS as LabelValues<L>);
  }

  /** The series of `labels`, made at zero when new. */
  protected cell(labels: LabelValues<L>): Cell {
    return this.#series.getOrCreate(labels, () => ({ value: 0 }));
  }

  protected dropSeries(labels: LabelValues<L>): boolean {
    return this.#series.delete(labels);
  }

  get seriesCount(): number {
    return this.#series.size;
  }

  get(labels: LabelValues<L> = NO_LABELS as LabelValues<L>): number | undefined {
    return this.#series.get(labels)?.value;
  }

  samples(out: string[]): void {
    for (const s of this.#series.sorted()) {
      out.push(`${this.name}${labelText(this.#names, s.values)} ${formatValue(s.state.value)}`);
    }
  }
}

export class Counter<L extends string = never> extends ValueFamily<L> {
  readonly type = MetricType.Counter;

  inc(labels: LabelValues<L> = NO_LABELS as LabelValues<L>, value = 1): void {
    if (!(value >= 0) || !Number.isFinite(value)) {
      throw new RangeError(`${this.name}: a counter only goes up by a finite amount, got ${value}`);
    }
    this.cell(labels).value += value;
  }
}

export class Gauge<L extends string = never> extends ValueFamily<L> {
  readonly type = MetricType.Gauge;

  set(labels: LabelValues<L>, value: number): void {
    this.cell(labels).value = value;
  }

  inc(labels: LabelValues<L> = NO_LABELS as LabelValues<L>, delta = 1): void {
    this.cell(labels).value += delta;
  }

  dec(labels: LabelValues<L> = NO_LABELS as LabelValues<L>, delta = 1): void {
    this.inc(labels, -delta);
  }

  /** Drops one series (an Application that was deleted); true when it existed. */
  remove(labels: LabelValues<L>): boolean {
    return this.dropSeries(labels);
  }
}

interface HistogramState {
  /** Observations per bucket, not cumulative; the last one is `+Inf`. */
  counts: number[];
  sum: number;
  count: number;
}

export class Histogram<L extends string = never> implements Family {
  readonly type = MetricType.Histogram;
  readonly name: string;
  readonly help: string;
  readonly buckets: readonly number[];
  readonly #names: readonly L[];
  readonly #series: SeriesMap<L, HistogramState>;

  constructor(def: HistogramDefinition<L>) {
    this.#names = checkDefinition(def, ['le']) as readonly L[];
    this.name = def.name;
    this.help = def.help;
    def.buckets.forEach((b, i) => {
      const previous = def.buckets[i - 1];
      if (!Number.isFinite(b) || (previous !== undefined && !(b > previous))) {
        throw new RangeError(`${def.name}: buckets must be finite and strictly ascending`);
      }
    });
    this.buckets = [...def.buckets];
    this.#series = new SeriesMap(def.name, this.#names);
    if (this.#names.length === 0) this.#series.getOrCreate(NO_LABELS as LabelValues<L>, () => this.#empty());
  }

  #empty(): HistogramState {
    return { counts: new Array<number>(this.buckets.length + 1).fill(0), sum: 0, count: 0 };
  }

  observe(labels: LabelValues<L>, value: number): void {
    if (Number.isNaN(value)) throw new RangeError(`${this.name}: cannot observe NaN`);
    const state = this.#series.getOrCreate(labels, () => this.#empty());
    // Buckets are inclusive upper bounds: a value equal to a bound counts in that bucket.
    let i = this.buckets.findIndex((b) => value <= b);
    if (i < 0) i = this.buckets.length;
    state.counts[i] = (state.counts[i] ?? 0) + 1;
    state.sum += value;
    state.count += 1;
  }

  /** Count and sum of one series, for tests and the CLI. */
  get(labels: LabelValues<L> = NO_LABELS as LabelValues<L>): { count: number; sum: number } | undefined {
    const s = this.#series.get(labels);
    return s ? { count: s.count, sum: s.sum } : undefined;
  }

  samples(out: string[]): void {
    for (const s of this.#series.sorted()) {
      let cumulative = 0;
      for (let i = 0; i <= this.buckets.length; i++) {
        cumulative += s.state.counts[i] ?? 0;
        const bound = this.buckets[i];
        const le = bound === undefined ? '+Inf' : formatValue(bound);
        out.push(`${this.name}_bucket${labelText(this.#names, s.values, ['le', le])} ${cumulative}`);
      }
      const labels = labelText(this.#names, s.values);
      out.push(`${this.name}_sum${labels} ${formatValue(s.state.sum)}`);
      out.push(`${this.name}_count${labels} ${s.state.count}`);
    }
  }
}

/** An unlabelled value read when scraped (CPU time, memory), not kept. */
class ReadAtScrape implements Family {
  readonly name: string;
  readonly help: string;
  readonly type: MetricType;
  readonly #read: () => number;

  constructor(type: MetricType, def: MetricDefinition<never>, read: () => number) {
    checkDefinition(def, []);
    this.type = type;
    this.name = def.name;
    this.help = def.help;
    this.#read = read;
  }

  samples(out: string[]): void {
    out.push(`${this.name} ${formatValue(this.#read())}`);
  }
}

/**
 * The metric families of one process (or one test). `render()` writes them sorted by name, their
 * series sorted by label values, so equal state gives equal text.
 */
export class MetricsRegistry {
  readonly #families = new Map<string, Family>();

  #add<F extends Family>(family: F): F {
    if (this.#families.has(family.name)) throw new Error(`metric ${family.name} is already registered`);
    this.#families.set(family.name, family);
    return family;
  }

  counter<const L extends string = never>(def: MetricDefinition<L>): Counter<L> {
    return this.#add(new Counter(def));
  }

  gauge<const L extends string = never>(def: MetricDefinition<L>): Gauge<L> {
    return this.#add(new Gauge(def));
  }

  histogram<const L extends string = never>(def: HistogramDefinition<L>): Histogram<L> {
    return this.#add(new Histogram(def));
  }

  /** A counter whose total is read at scrape time, such as `process_cpu_seconds_total`. */
  counterFunc(def: MetricDefinition<never>, read: () => number): void {
    this.#add(new ReadAtScrape(MetricType.Counter, def, read));
  }

  /** A gauge read at scrape time, such as `process_resident_memory_bytes`. */
  gaugeFunc(def: MetricDefinition<never>, read: () => number): void {
    this.#add(new ReadAtScrape(MetricType.Gauge, def, read));
  }

  /** The text exposition format 0.0.4, ending with a newline. */
  render(): string {
    const out: string[] = [];
    const names = [...this.#families.keys()].sort();
    for (const name of names) {
      const family = this.#families.get(name);
      if (!family) continue;
      out.push(`# HELP ${family.name} ${escapeHelp(family.help)}`);
      out.push(`# TYPE ${family.name} ${family.type}`);
      family.samples(out);
    }
    return out.length === 0 ? '' : `${out.join('\n')}\n`;
  }
}
