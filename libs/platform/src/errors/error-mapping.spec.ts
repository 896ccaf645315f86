import { DsgError, ErrorCodes } from '@dsg/contracts';
import {
  BadRequestException,
  ForbiddenException,
  NotFoundException,
  UnauthorizedException,
} from '@nestjs/common';
import { validate } from 'class-validator';
import { IsInt, IsString, ValidateNested } from 'class-validator';
import { Type } from 'class-transformer';
import { plainToInstance } from 'class-transformer';
import type { Logger } from '../logging/logger';
import { toErrorBody, toFieldErrors } from './error-mapping';

class Line {
  @IsString()
  purpose!: string;
}
class Order {
  @IsInt()
  count!: number;
  @ValidateNested({ each: true })
  @Type(() => Line)
  lines!: Line[];
}

const stubLogger = () => ({ error: jest.fn() }) as unknown as Logger & { error: jest.Mock };

describe(toErrorBody.name, () => {
  it("maps the body parser's own refusals by status: too large 413, unparsable 400; logs nothing", () => {
    const logger = stubLogger();
    const parserError = (status: number, type: string) =>
      Object.assign(new Error('raw-body says no'), { expose: true, status, type });
    expect(toErrorBody(parserError(413, 'entity.too.large'), logger, 'http')).toMatchObject({
      code: ErrorCodes.TOO_LARGE,
    });
    expect(toErrorBody(parserError(400, 'entity.parse.failed'), logger, 'http')).toMatchObject({
      code: ErrorCodes.MALFORMED,
    });
    expect(toErrorBody(parserError(415, 'charset.unsupported'), logger, 'http')).toMatchObject({
      code: ErrorCodes.UNSUPPORTED,
    });
    expect(logger.error).not.toHaveBeenCalled();
    // An error that merely has a status is not the parser's: internal, logged.
    expect(
      toErrorBody(Object.assign(new Error('x'), { status: 413 }), logger, 'http'),
    ).toMatchObject({ code: ErrorCodes.INTERNAL });
    expect(logger.error).toHaveBeenCalledTimes(1);
  });

  it('passes expected domain errors through unchanged and logs nothing', () => {
    const logger = stubLogger();
    const body = toErrorBody(
      new DsgError('DISCLOSURE.RECIPIENT_NOT_ALLOWED', 'no'),
      logger,
      'nats',
    );
    expect(body).toEqual({ code: 'DISCLOSURE.RECIPIENT_NOT_ALLOWED', message: 'no' });
    expect(logger.error).not.toHaveBeenCalled();
  });

  it('turns an unexpected error into a generic one whose correlation id is in the log', () => {
    const logger = stubLogger();
    const body = toErrorBody(new Error('duplicate key (email)=(x@y)'), logger, 'grpc');
    expect(body.code).toBe(ErrorCodes.INTERNAL);
    expect(body.message).not.toContain('x@y');
    expect(body.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    expect(logger.error.mock.calls[0][0]).toMatchObject({
      correlationId: body.correlationId,
      transport: 'grpc',
    });
  });

  it.each([
    [new NotFoundException(), ErrorCodes.NOT_FOUND],
    [new ForbiddenException(), ErrorCodes.FORBIDDEN],
    [new UnauthorizedException(), ErrorCodes.UNAUTHENTICATED],
    [new BadRequestException('Unexpected token } in JSON'), ErrorCodes.MALFORMED],
  ])('maps framework exception %p to its product code', (exception, code) => {
    const body = toErrorBody(exception, stubLogger(), 'http');
    expect(body.code).toBe(code);
    expect(body.message).not.toContain('Unexpected token');
  });
});

describe(toFieldErrors.name, () => {
  it('names nested fields by dot path', async () => {
    const order = plainToInstance(Order, {
      count: 'many',
      lines: [{ purpose: 'ok' }, { purpose: 7 }],
    });
    const sut = toFieldErrors(await validate(order));
    expect(sut).toEqual([
      { field: 'count', constraint: 'isInt', message: 'count must be an integer number' },
      { field: 'lines.1.purpose', constraint: 'isString', message: 'purpose must be a string' },
    ]);
  });
});
