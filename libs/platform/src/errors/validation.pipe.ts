import { ValidationFailedError } from '@dsg/contracts';
import { type ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { CompiledValidators } from './compiled-validator';
import { validationException } from './error-mapping';

/**
 * Contract validation for every transport. Unknown fields are refused rather than silently
 * dropped, so a caller's typo never turns into a default; a request that is not a JSON object
 * at all (a string, an array, null) is refused before class-validator sees it.
 *
 * A request ajv's compiled validator accepts (CompiledValidators: the same contract classes,
 * compiled where that is faithful) is passed on as it arrived, without class-validator or
 * class-transformer: the hot path of every service. Anything else, and every error, goes through
 * class-validator.
 */
@Injectable()
export class ContractValidationPipe extends ValidationPipe {
  private readonly compiled = new CompiledValidators();

  constructor() {
    super({
      transform: true,
      whitelist: true,
      forbidNonWhitelisted: true,
      // Empty request classes (VersionRequest) carry no metadata; objects are checked below.
      forbidUnknownValues: false,
      validationError: { target: false, value: false },
      exceptionFactory: (errors) => validationException(errors),
    });
  }

  override async transform(value: unknown, metadata: ArgumentMetadata): Promise<unknown> {
    const isContractClass = metadata.metatype && !this.isPrimitiveOrBuiltIn(metadata.metatype);
    if (isContractClass && metadata.type !== 'custom') {
      if (!isPlainObject(value)) {
        throw new ValidationFailedError([
          { field: '$', constraint: 'isObject', message: 'request must be a JSON object' },
        ]);
      }
      const validate = this.compiled.for(metadata.metatype as new () => unknown);
      if (validate?.(value)) return value;
    }
    return super.transform(value, metadata);
  }

  private isPrimitiveOrBuiltIn(metatype: unknown): boolean {
    return [String, Boolean, Number, Array, Object, Buffer, Date].includes(metatype as never);
  }
}

function isPlainObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function createValidationPipe(): ContractValidationPipe {
  return new ContractValidationPipe();
}
