import { PingRequest, ValidationFailedError, VersionRequest } from '@dsg/contracts';
import type { ArgumentMetadata } from '@nestjs/common';
import { ContractValidationPipe } from './validation.pipe';

const body = (metatype: ArgumentMetadata['metatype']): ArgumentMetadata => ({
  type: 'body',
  metatype,
});

describe(ContractValidationPipe.name, () => {
  const sut = new ContractValidationPipe();

  it('passes a valid request on as it arrived (the compiled path)', async () => {
    const request = { payload: 'x', delayMs: 5 };
    await expect(sut.transform(request, body(PingRequest))).resolves.toBe(request);
  });

  it('accepts an empty object for a request class without fields', async () => {
    await expect(sut.transform({}, body(VersionRequest))).resolves.toEqual({});
  });

  it('gives class-validator the last word where the compiled validator is stricter', async () => {
    // ajv refuses null for an optional field; class-validator's IsOptional accepts it.
    await expect(sut.transform({ payload: null }, body(PingRequest))).resolves.toBeInstanceOf(
      PingRequest,
    );
  });

  it('refuses unknown fields, even on a request class without fields', async () => {
    const error = await sut
      .transform({ surprise: 1 }, body(VersionRequest))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationFailedError);
    expect((error as ValidationFailedError).fields).toEqual([
      expect.objectContaining({ field: 'surprise', constraint: 'whitelistValidation' }),
    ]);
  });

  it.each([['a string'], [[1, 2]], [null]])('refuses %p where an object is due', async (value) => {
    const error = await sut.transform(value, body(PingRequest)).catch((e: unknown) => e);
    expect((error as ValidationFailedError).fields).toEqual([
      expect.objectContaining({ field: '$' }),
    ]);
  });
});
