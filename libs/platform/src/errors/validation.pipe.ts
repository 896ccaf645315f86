import { ValidationPipe } from '@nestjs/common';
import { validationException } from './error-mapping';

/**
 * Contract validation for every transport: unknown fields are refused rather than silently
 * dropped, so a caller's typo never turns into a default.
 */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    forbidNonWhitelisted: true,
    forbidUnknownValues: true,
    validationError: { target: false, value: false },
    exceptionFactory: (errors) => validationException(errors),
  });
}
