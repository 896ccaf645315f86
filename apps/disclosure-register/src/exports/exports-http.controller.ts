import { ExportLinesQuery } from '@dsg/contracts';
import { RequireRole } from '@dsg/platform';
import { Controller, Get, Query, Res } from '@nestjs/common';
import type { Response } from 'express';
import { ExportsService } from './exports.service';

/**
 * A contiguous export's lines over HTTP, streamed from one COPY: for millions of entries a
 * stream keeps pace with PostgreSQL where NATS pages (a message each, parsed whole by the
 * client) do not. The manifest still comes over NATS (`exports.manifest`), and so do filtered
 * exports' pages; the gateway relays people's requests here with their assertion.
 */
@Controller()
export class ExportsHttpController {
  constructor(private readonly exports: ExportsService) {}

  @Get('exports/lines')
  @RequireRole('auditor', 'privacy_officer')
  lines(@Query() query: ExportLinesQuery, @Res() res: Response): Promise<void> {
    return this.exports.streamRange(query, res);
  }
}
