import { Controller, Get, Res } from '@nestjs/common';
import type { Response } from 'express';
import { StackHealthService } from './stack-health.service';

/** GET /health: every service's status gathered over NATS; 503 when any is not ready. */
@Controller('health')
export class StackHealthController {
  constructor(private readonly health: StackHealthService) {}

  @Get()
  async stack(@Res({ passthrough: true }) res: Response) {
    const health = await this.health.check();
    res.status(health.state === 'ok' ? 200 : 503);
    return health;
  }
}
