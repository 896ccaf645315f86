// Validates Kubernetes objects (a JSON array on stdin) with @kubernetes-models/cloudnative-pg and
// prints [{ kind, name, errors }] as JSON. A child process of the test because the package is
// ESM only, which Jest's CommonJS runtime cannot load.
//
// The models' schemas accept properties they do not know, so a misspelt field would pass
// validate() and be dropped by the API server. Each object's keys are therefore also checked
// against the models' own interfaces (their .d.ts files), level by level.
import * as v1 from '@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1';
import { BarmanObjectStoreConfiguration } from '@kubernetes-models/cloudnative-pg/github.com/cloudnative-pg/barman-cloud/pkg/api';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

// The Barman Cloud plugin's ObjectStore has no model in the package; its spec is documented in
// the plugin's api/v1/objectstore_types.go, and its `configuration` is barman-cloud's
// BarmanObjectStoreConfiguration, which the package does model.
const OBJECT_STORE_SPEC_KEYS = new Set([
  'configuration',
  'retentionPolicy',
  'instanceSidecarConfiguration',
]);
const RETENTION_POLICY = /^[1-9][0-9]*[dwm]$/;

const declarationOf = (specifier) =>
  fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');

/**
 * The interface of a model's .d.ts, with the interfaces it extends: key -> the .d.ts of the
 * key's own model, where it has one in this package.
 */
function interfaceOf(file) {
  const text = readFileSync(file, 'utf8');
  const match = /export interface I\w+(?: extends ([\w, ]+))? \{([\s\S]*?)\n\}/.exec(text);
  if (!match) return undefined;
  const [, parents = '', body] = match;
  const imports = new Map(
    [...text.matchAll(/import \{ (\w+) \} from "(\.[^"]+)\.js";/g)].map(([, name, path]) => [
      name,
      fileURLToPath(new URL(`${path}.d.ts`, `file://${file}`)),
    ]),
  );
  const keys = new Map();
  for (const parent of parents.split(', ').filter((name) => imports.has(name))) {
    for (const [key, next] of interfaceOf(imports.get(parent)) ?? []) keys.set(key, next);
  }
  for (const [, key, type] of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
    keys.set(key, imports.get(/^(?:Array<)?(\w+)>?$/.exec(type)?.[1]));
  }
  return keys;
}

/** Paths of the keys of `value` that the model declared in `file` does not know. */
function unknownKeys(value, file, path) {
  const keys = interfaceOf(file);
  if (!keys) return [];
  return Object.entries(value).flatMap(([key, child]) => {
    if (!keys.has(key)) return [`${path}.${key} is not a field of the model`];
    const next = keys.get(key);
    if (!next) return [];
    const items = Array.isArray(child) ? child : [child];
    return items
      .filter((item) => item !== null && typeof item === 'object' && !Array.isArray(item))
      .flatMap((item, i) =>
        unknownKeys(item, next, Array.isArray(child) ? `${path}.${key}[${i}]` : `${path}.${key}`),
      );
  });
}

function validateWith(Model, data) {
  try {
    new Model(data).validate();
    return [];
  } catch (err) {
    return [err.message];
  }
}

function validateCnpg(object) {
  const Model = v1[object.kind];
  if (typeof Model !== 'function' || Model.kind !== object.kind) {
    return [`no postgresql.cnpg.io/v1 model for kind ${object.kind}`];
  }
  const file = declarationOf(
    `@kubernetes-models/cloudnative-pg/postgresql.cnpg.io/v1/${object.kind}`,
  );
  return [...validateWith(Model, object), ...unknownKeys(object, file, object.kind)];
}

function validateObjectStore(object) {
  const spec = object.spec ?? {};
  const errors = Object.keys(spec)
    .filter((key) => !OBJECT_STORE_SPEC_KEYS.has(key))
    .map((key) => `ObjectStore.spec.${key} is not a field of the ObjectStore`);
  if (spec.retentionPolicy !== undefined && !RETENTION_POLICY.test(spec.retentionPolicy)) {
    errors.push(`ObjectStore.spec.retentionPolicy must match ${RETENTION_POLICY}`);
  }
  if (spec.configuration === undefined) errors.push('ObjectStore.spec.configuration is required');
  const file = declarationOf(
    '@kubernetes-models/cloudnative-pg/github.com/cloudnative-pg/barman-cloud/pkg/api/BarmanObjectStoreConfiguration',
  );
  return [
    ...errors,
    ...validateWith(BarmanObjectStoreConfiguration, spec.configuration ?? {}),
    ...unknownKeys(spec.configuration ?? {}, file, 'ObjectStore.spec.configuration'),
  ];
}

function validate(object) {
  if (object.apiVersion === 'postgresql.cnpg.io/v1') return validateCnpg(object);
  if (object.apiVersion === 'barmancloud.cnpg.io/v1' && object.kind === 'ObjectStore') {
    return validateObjectStore(object);
  }
  return [`no model for ${object.apiVersion} ${object.kind}`];
}

const objects = JSON.parse(readFileSync(0, 'utf8'));
const report = objects.map((object) => ({
  kind: object.kind,
  name: object.metadata?.name,
  errors: validate(object),
}));
process.stdout.write(`${JSON.stringify(report)}\n`);
