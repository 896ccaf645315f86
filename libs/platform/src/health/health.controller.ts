import { Controller, Get, Header, Res } from '@nestjs/common';
import type { Response } from 'express';
import { MetricsService } from '../metrics/metrics.service';
import { SystemService } from '../system/system.service';

/**
 * Probes for the orchestrator and the scrape target for Prometheus. Liveness says only that the
 * process answers; readiness checks PostgreSQL and NATS and turns false as shutdown begins.
 */
@Controller()
export class HealthController {
  constructor(
    private readonly system: SystemService,
    private readonly metrics: MetricsService,
  ) {}

  @Get('health/live')
  live() {
    return { state: 'live' };
  }

  @Get('health/ready')
  async ready(@Res({ passthrough: true }) res: Response) {
    const status = await this.system.status();
    res.status(status.state === 'ready' ? 200 : 503);
    return status;
  }

  @Get('metrics')
  @Header('Cache-Control', 'no-store')
  async scrape(@Res() res: Response): Promise<void> {
    res.type(this.metrics.registry.contentType).send(await this.metrics.registry.metrics());
  }
}
