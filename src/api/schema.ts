// A small schema language that yields both a TypeScript type and a structural OpenAPI v3 schema,
// so the CRD manifests and the code that reads the objects come from one source.

/** The subset of OpenAPI v3 that CRD structural schemas use. */
export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, OpenApiSchema>;
  required?: string[];
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema;
  enum?: (string | number)[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  maxItems?: number;
  default?: unknown;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: { rule: string; message: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
}

/** A schema for values of type T. `T` exists only for inference. */
export interface Schema<T> {
  readonly openapi: OpenApiSchema;
  readonly optional: boolean;
  /** Phantom field carrying the TypeScript type; never set. */
  readonly __type?: T;
}

export type Infer<S> = S extends Schema<infer T> ? T : never;

type Props = Record<string, Schema<unknown>>;
type OptionalKeys<P extends Props> = { [K in keyof P]: P[K] extends { optional: true } ? K : never }[keyof P];
type RequiredKeys<P extends Props> = Exclude<keyof P, OptionalKeys<P>>;
type Simplify<T> = { [K in keyof T]: T[K] } & {};
export type ObjectOf<P extends Props> = Simplify<
  { [K in RequiredKeys<P>]: Infer<P[K]> } & { [K in OptionalKeys<P>]?: Infer<P[K]> }
>;

type Doc = { description?: string };

function schema<T>(openapi: OpenApiSchema): Schema<T> & { optional: false } {
  return { openapi, optional: false };
}

/** Go-style durations as Kubernetes controllers read them: `90s`, `5m`, `1h30m`, `500ms`. */
export const DURATION_PATTERN = '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$';
/** DNS-1123 subdomain, the shape of most object names. */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$';

export const s = {
  string(
    opts: Doc & Pick<OpenApiSchema, 'pattern' | 'format' | 'minLength' | 'maxLength' | 'default'> = {},
  ): Schema<string> & { optional: false } {
    return schema<string>({ type: 'string', ...opts });
  },
  enumOf<const V extends readonly string[]>(
    values: V,
    opts: Doc & { default?: V[number] } = {},
  ): Schema<V[number]> & { optional: false } {
    return schema<V[number]>({ type: 'string', enum: [...values], ...opts });
  },
  int(
    opts: Doc & Pick<OpenApiSchema, 'minimum' | 'maximum' | 'default'> = {},
  ): Schema<number> & { optional: false } {
    return schema<number>({ type: 'integer', ...opts });
  },
  bool(opts: Doc & { default?: boolean } = {}): Schema<boolean> & { optional: false } {
    return schema<boolean>({ type: 'boolean', ...opts });
  },
  duration(opts: Doc & { default?: string } = {}): Schema<string> & { optional: false } {
    return schema<string>({ type: 'string', pattern: DURATION_PATTERN, ...opts });
  },
  dateTime(opts: Doc = {}): Schema<string> & { optional: false } {
    return schema<string>({ type: 'string', format: 'date-time', ...opts });
  },
  array<T>(
    items: Schema<T>,
    opts: Doc &
      Pick<OpenApiSchema, 'maxItems' | 'x-kubernetes-list-type' | 'x-kubernetes-list-map-keys'> = {},
  ): Schema<T[]> & { optional: false } {
    return schema<T[]>({ type: 'array', items: items.openapi, ...opts });
  },
  map<T>(values: Schema<T>, opts: Doc = {}): Schema<Record<string, T>> & { optional: false } {
    return schema<Record<string, T>>({ type: 'object', additionalProperties: values.openapi, ...opts });
  },
  /** Any JSON object, kept as it is (e.g. Helm values). */
  freeform(opts: Doc = {}): Schema<Record<string, unknown>> & { optional: false } {
    return schema<Record<string, unknown>>({
      type: 'object',
      'x-kubernetes-preserve-unknown-fields': true,
      ...opts,
    });
  },
  object<P extends Props>(
    props: P,
    opts: Doc & { validations?: { rule: string; message: string }[] } = {},
  ): Schema<ObjectOf<P>> & { optional: false } {
    const required = Object.entries(props)
      .filter(([, v]) => !v.optional)
      .map(([k]) => k);
    return schema<ObjectOf<P>>({
      type: 'object',
      ...(opts.description ? { description: opts.description } : {}),
      properties: Object.fromEntries(Object.entries(props).map(([k, v]) => [k, v.openapi])),
      ...(required.length > 0 ? { required } : {}),
      ...(opts.validations ? { 'x-kubernetes-validations': opts.validations } : {}),
    });
  },
  optional<T>(inner: Schema<T>): Schema<T> & { optional: true } {
    return { openapi: inner.openapi, optional: true };
  },
};
