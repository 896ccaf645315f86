import 'reflect-metadata';
import { CheckBatchRequest, CheckRequest, RecordConsentRequest, Rpc } from '@dsg/contracts';
import Ajv from 'ajv';
import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { CompiledValidators } from './compiled-validator';

type Ctor = new () => object;

const requestClasses = [
  ...new Set(
    Object.values(Rpc).flatMap((ops) =>
      Object.values(ops as Record<string, { request: Ctor }>).map((op) => op.request),
    ),
  ),
];

/** class-validator as the pipe runs it: the authority the compiled path must never contradict. */
function classValidatorAccepts(cls: Ctor, value: unknown): boolean {
  const instance = plainToInstance(cls, value);
  return (
    validateSync(instance, {
      whitelist: true,
      forbidNonWhitelisted: true,
      forbidUnknownValues: false,
    }).length === 0
  );
}

// Values that satisfy, and values that break, the contracts' patterns, enums and lengths.
const STRINGS = [
  '',
  'a',
  'client-1',
  'Client_01',
  '-leading',
  'x'.repeat(65),
  'x'.repeat(2000),
  'a longer description of the information',
  '2026-11-25T10:00:00Z',
  '2026-11-25T10:00:00.123+01:00',
  '2026-11-25',
  '3f2c1a9e-8b7d-4c6e-9f1a-2b3c4d5e6f70',
  '2026.1',
  'health.medications',
  'Opt\uFE0F',
  '\uFE0F\uFE0F',
  '😀'.repeat(33),
  'ok\nok',
];
const CANDIDATES: unknown[] = [
  ...STRINGS,
  0,
  1,
  -1,
  1.5,
  100000,
  true,
  false,
  null,
  {},
  { a: 1 },
  [],
  ['a'],
  ['health.medications', 'identifiers.contact'],
  [1],
];

/** A deterministic pseudo-random generator, so a failure names a reproducible case. */
function random(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    return state / 0x7fffffff;
  };
}

interface Schema {
  $ref?: string;
  type?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  minItems?: number;
  definitions?: Record<string, Schema>;
}

const ajv = new Ajv({ unicodeRegExp: false });
const compiledParts = new WeakMap<Schema, (value: unknown) => boolean>();
const pick = <T>(list: T[], next: () => number): T => list[Math.floor(next() * list.length)];

/** A value the schema accepts, each field chosen among the candidates that fit it, or undefined. */
function valid(schema: Schema, defs: Record<string, Schema>, next: () => number): unknown {
  if (schema.$ref) return valid(defs[schema.$ref.split('/').pop()!], defs, next);
  if (schema.type === 'object' && schema.properties) {
    const out: Record<string, unknown> = {};
    for (const [field, sub] of Object.entries(schema.properties)) {
      if (!schema.required?.includes(field) && next() < 0.4) continue;
      const value = valid(sub, defs, next);
      if (value === undefined) return undefined;
      out[field] = value;
    }
    return out;
  }
  if (schema.type === 'array' && schema.items) {
    const length = Math.max(schema.minItems ?? 0, 1 + Math.floor(next() * 2));
    const items = Array.from({ length }, () => valid(schema.items!, defs, next));
    return items.includes(undefined) ? undefined : items;
  }
  let check = compiledParts.get(schema);
  if (!check) {
    check = ajv.compile({ ...schema, definitions: defs });
    compiledParts.set(schema, check);
  }
  const fitting = [...CANDIDATES, ...(schema.enum ?? [])].filter((v) => check(v));
  return fitting.length ? pick(fitting, next) : undefined;
}

/** A valid value with up to two fields broken, removed or added (or none). */
function mutate(value: Record<string, unknown>, next: () => number): Record<string, unknown> {
  const out = { ...value };
  for (let n = Math.floor(next() * 3); n > 0; n--) {
    const fields = Object.keys(out);
    const roll = next();
    if (roll < 0.15 || fields.length === 0) out[pick(['unexpected', 'x'], next)] = 1;
    else if (roll < 0.3) delete out[pick(fields, next)];
    else out[pick(fields, next)] = pick(CANDIDATES, next);
  }
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

describe(CompiledValidators.name, () => {
  const validators = new CompiledValidators();

  it('compiles the hot-path contracts (the decision and the ledger)', () => {
    expect(validators.for(CheckRequest)).not.toBeNull();
    expect(validators.for(CheckBatchRequest)).not.toBeNull();
    expect(validators.for(RecordConsentRequest)).not.toBeNull();
  });

  it.each(requestClasses.map((cls) => [cls.name, cls] as const))(
    '%s: whatever the compiled validator accepts, class-validator accepts',
    (_name, cls) => {
      const validate = validators.for(cls);
      if (!validate) return; // not compiled: class-validator alone decides
      const schema = validate.schema as Schema;
      const next = random(cls.name.length * 7919);
      let accepted = 0;
      let generated = 0;
      for (let i = 0; i < 1500; i++) {
        const base = valid(schema, schema.definitions ?? {}, next);
        if (base === undefined) continue;
        generated++;
        const value = mutate(base as Record<string, unknown>, next);
        if (validate(value)) {
          accepted++;
          if (!classValidatorAccepts(cls, value)) {
            throw new Error(
              `${cls.name}: ajv accepted what class-validator refuses: ${JSON.stringify(value)}`,
            );
          }
        }
      }
      // The check says something only if it produced requests the compiled path accepted.
      if (generated > 0) expect(accepted).toBeGreaterThan(0);
      if (cls === CheckRequest || cls === RecordConsentRequest) {
        expect(accepted).toBeGreaterThan(100);
      }
    },
  );

  it('refuses, as class-validator does, broken decision requests', () => {
    const validate = validators.for(CheckRequest)!;
    const request = {
      clientId: 'c-1',
      recipientKind: 'service-provider',
      purpose: 'internal-analytics',
      categories: ['identifiers.contact'],
      legalBasis: 'health-care-operations',
    };
    expect(validate(request)).toBe(true);
    for (const broken of [
      { ...request, clientId: '' },
      { ...request, categories: [] },
      { ...request, categories: [1] },
      { ...request, legalBasis: 'sale' },
      { ...request, at: 'yesterday' },
      { ...request, extra: true },
      { ...request, recipientKind: undefined },
    ]) {
      const value = JSON.parse(JSON.stringify(broken)) as unknown;
      expect(validate(value)).toBe(false);
      expect(classValidatorAccepts(CheckRequest, value)).toBe(false);
    }
  });
});
