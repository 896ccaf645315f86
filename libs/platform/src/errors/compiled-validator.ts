import { contractSchemas } from '@dsg/contracts';
import Ajv, { type ValidateFunction } from 'ajv';
// The storage is public API of class-transformer but typed only under types/.
import { defaultMetadataStorage } from 'class-transformer/cjs/storage';
import { getMetadataStorage, ValidationTypes } from 'class-validator';

type Class = abstract new (...args: never[]) => unknown;

/**
 * The class-validator decorators whose JSON Schema (class-validator-jsonschema) accepts nothing
 * class-validator refuses. `minLength` is left out on purpose: validator.js does not count
 * variation selectors, so the schema could accept a string class-validator finds too short.
 */
const FAITHFUL = new Set([
  'isString',
  'isIn',
  'matches',
  'maxLength',
  'isArray',
  'equals',
  'isBoolean',
  'arrayMaxSize',
  'arrayMinSize',
  'isObject',
  'isInt',
  'isNumber',
  'min',
  'max',
]);

/**
 * Validators compiled by ajv from the JSON Schema of the contract classes, generated from their
 * class-validator decorators: one source for the validation, the documents and this fast path.
 * A class is compiled only when every constraint on it (and on the classes it nests) converts
 * faithfully: what ajv accepts, class-validator accepts too. ajv may be stricter (null for an
 * optional field, say); a request it refuses goes to class-validator, which gives the error (or
 * accepts), so errors read the same on both paths.
 */
export class CompiledValidators {
  private readonly compiled = new Map<Class, ValidateFunction | null>();
  private readonly ajv = new Ajv({ allErrors: false, unicodeRegExp: false });

  /** The compiled validator, or null when the class must go through class-validator. */
  for(cls: Class): ValidateFunction | null {
    let validate = this.compiled.get(cls);
    if (validate === undefined) {
      validate = faithful(cls, new Set()) ? this.compile(cls) : null;
      this.compiled.set(cls, validate);
    }
    return validate;
  }

  private compile(cls: Class): ValidateFunction | null {
    const schemas = contractSchemas([cls as new () => unknown], '#/definitions/');
    const root = schemas[cls.name];
    if (!root) return null;
    try {
      return this.ajv.compile({ ...root, definitions: schemas });
    } catch {
      return null; // a keyword or pattern ajv does not take: class-validator decides
    }
  }
}

function faithful(cls: Class, seen: Set<Class>): boolean {
  if (seen.has(cls)) return true;
  seen.add(cls);
  const metadatas = getMetadataStorage().getTargetValidationMetadatas(
    cls as new () => unknown,
    '',
    true,
    false,
  );
  for (const m of metadatas) {
    if (m.groups?.length) return false;
    const target = m.target as Class;
    switch (m.type) {
      case ValidationTypes.CONDITIONAL_VALIDATION:
        if (m.name !== 'isOptional') return false; // ValidateIf: not expressible in the schema
        break;
      case ValidationTypes.NESTED_VALIDATION: {
        const type = defaultMetadataStorage.findTypeMetadata(target, m.propertyName);
        const nested = type?.typeFunction() as Class | undefined;
        if (!nested || !faithful(nested, seen)) return false;
        break;
      }
      case ValidationTypes.CUSTOM_VALIDATION:
        if (!m.name || !FAITHFUL.has(m.name)) return false;
        if (m.name === 'matches' && !flagless(m.constraints)) return false;
        break;
      default:
        return false;
    }
    // Values changed by class-transformer would be validated in another form than they arrive.
    if (
      defaultMetadataStorage.findTransformMetadatas(target, m.propertyName, 0 /* PLAIN_TO_CLASS */)
        .length > 0 ||
      defaultMetadataStorage.findExcludeMetadata(target, m.propertyName)
    ) {
      return false;
    }
  }
  return true;
}

function flagless(constraints: unknown[]): boolean {
  const [pattern, modifiers] = constraints;
  return pattern instanceof RegExp ? pattern.flags === '' : !modifiers;
}
