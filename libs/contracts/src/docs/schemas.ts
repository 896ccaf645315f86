// The storage is public API of class-transformer but typed only under types/.
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { validationMetadatasToSchemas } from 'class-validator-jsonschema';
export type JsonSchema = Record<string, unknown>;

/**
 * JSON Schemas of the contract classes, generated from their class-validator decorators: the
 * validators and the documents read the same source, so they cannot disagree. Classes without
 * fields (empty requests) become closed empty objects, as the validation pipe treats them.
 */
export function contractSchemas(
  classes: (new () => unknown)[],
  refPrefix: string,
): Record<string, JsonSchema> {
  const generated = validationMetadatasToSchemas({
    classTransformerMetadataStorage: defaultMetadataStorage,
    refPointerPrefix: refPrefix,
  }) as Record<string, JsonSchema>;
  const out: Record<string, JsonSchema> = {};
  const add = (name: string) => {
    if (out[name]) return;
    const schema = generated[name] ?? { type: 'object', properties: {} };
    out[name] = { ...schema, additionalProperties: false };
    for (const ref of JSON.stringify(schema).matchAll(/"\$ref":"[^"]*\/([A-Za-z0-9]+)"/g))
      add(ref[1]);
  };
  for (const cls of classes) add(cls.name);
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => a.localeCompare(b)));
}
