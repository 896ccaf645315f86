// Validates Kubernetes objects offline: each against its schema (kubernetes-models, and the
// CloudNativePG, Prometheus Operator and External Secrets models for their kinds), and each key
// against the model's own interface, level by level: the schemas accept properties they do not
// know, so a misspelt field (readOnlyRootFilesytem) would pass them and be dropped by the API
// server. The models are ESM only; the test suite runs this as a child process (stdin: a JSON
// array of objects; stdout: [{kind, name, errors}]) and `npm run check-deploy` imports it.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** The model packages of the custom resources the manifests use, by API group. */
const CRD_MODELS = {
  'postgresql.cnpg.io': '@kubernetes-models/cloudnative-pg',
  'monitoring.coreos.com': '@kubernetes-models/prometheus-operator',
  'external-secrets.io': '@kubernetes-models/external-secrets',
};

/** The Barman Cloud plugin's ObjectStore has no model; its `configuration` has (barman-cloud). */
const BARMAN_CONFIGURATION =
  '@kubernetes-models/cloudnative-pg/github.com/cloudnative-pg/barman-cloud/pkg/api/BarmanObjectStoreConfiguration';
// The plugin's api/v1/objectstore_types.go: the ObjectStore's spec.
const OBJECT_STORE_SPEC_KEYS = new Set([
  'configuration',
  'retentionPolicy',
  'instanceSidecarConfiguration',
]);
const RETENTION_POLICY = /^[1-9][0-9]*[dwm]$/;

function modulePath(apiVersion, kind) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg = CRD_MODELS[group] ?? 'kubernetes-models';
  return group ? `${pkg}/${group}/${version}/${kind}` : `${pkg}/${version}/${kind}`;
}

const declarationOf = (specifier) =>
  fileURLToPath(import.meta.resolve(specifier)).replace(/\.js$/, '.d.ts');

const interfaces = new Map();

/**
 * The keys of the interface a model's .d.ts declares (with those of the interfaces it extends):
 * key -> the .d.ts of the key's own model, where it has one.
 */
function interfaceOf(file) {
  if (interfaces.has(file)) return interfaces.get(file);
  const text = readFileSync(file, 'utf8');
  const match = /export interface I\w+(?: extends ([\w, ]+))? \{([\s\S]*?)\n\}/.exec(text);
  let keys;
  if (match) {
    const [, parents = '', body] = match;
    const imports = new Map(
      [...text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)].map(([, name, from]) => [
        name,
        from.startsWith('.')
          ? fileURLToPath(new URL(from.replace(/\.js$/, '.d.ts'), `file://${file}`))
          : declarationOf(from),
      ]),
    );
    keys = new Map();
    for (const parent of parents.split(', ').filter((name) => imports.has(name))) {
      for (const [key, next] of interfaceOf(imports.get(parent)) ?? []) keys.set(key, next);
    }
    for (const [, key, type] of body.matchAll(/^ {4}"([^"]+)"\??: (.+?);?$/gm)) {
      keys.set(key, imports.get(/^(?:Array<)?(\w+)>?$/.exec(type)?.[1]));
    }
  }
  interfaces.set(file, keys);
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

async function validateObjectStore(object) {
  const spec = object.spec ?? {};
  const errors = Object.keys(spec)
    .filter((key) => !OBJECT_STORE_SPEC_KEYS.has(key))
    .map((key) => `ObjectStore.spec.${key} is not a field of the ObjectStore`);
  if (spec.retentionPolicy !== undefined && !RETENTION_POLICY.test(spec.retentionPolicy)) {
    errors.push(`ObjectStore.spec.retentionPolicy must match ${RETENTION_POLICY}`);
  }
  if (spec.configuration === undefined) errors.push('ObjectStore.spec.configuration is required');
  const { BarmanObjectStoreConfiguration } = await import(BARMAN_CONFIGURATION);
  return [
    ...errors,
    ...validateWith(BarmanObjectStoreConfiguration, spec.configuration ?? {}),
    ...unknownKeys(
      spec.configuration ?? {},
      declarationOf(BARMAN_CONFIGURATION),
      'ObjectStore.spec.configuration',
    ),
  ];
}

/** The problems of one object; a kind without a model is one (nothing goes unchecked). */
export async function validate(object) {
  if (object.apiVersion === 'barmancloud.cnpg.io/v1' && object.kind === 'ObjectStore') {
    return validateObjectStore(object);
  }
  const specifier = modulePath(object.apiVersion, object.kind);
  let Model;
  try {
    Model = (await import(specifier))[object.kind];
  } catch {
    Model = undefined;
  }
  if (typeof Model !== 'function') return [`no schema for ${object.apiVersion} ${object.kind}`];
  return [
    ...validateWith(Model, object),
    ...unknownKeys(object, declarationOf(specifier), object.kind),
  ];
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const objects = JSON.parse(readFileSync(0, 'utf8'));
  const report = [];
  for (const object of objects) {
    report.push({ kind: object.kind, name: object.metadata?.name, errors: await validate(object) });
  }
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
