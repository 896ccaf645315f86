import { ValidationFailedError } from '@dsg/contracts';
import { type ArgumentMetadata, Injectable, ValidationPipe } from '@nestjs/common';
import { validationException } from './error-mapping';

/**
 * Contract validation for every transport. Unknown fields are refused rather than silently
 * dropped, so a caller's typo never turns into a default; a request that is not a JSON object
 * at all (a string, an array, null) is refused before class-validator sees it.
 */
@Injectable()
export class ContractValidationPipe extends ValidationPipe {
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
    if (isContractClass && metadata.type !== 'custom' && !isPlainObject(value)) {
      throw new ValidationFailedError([
        { field: '$', constraint: 'isObject', message: 'request must be a JSON object' },
      ]);
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
