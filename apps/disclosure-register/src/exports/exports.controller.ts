import { ExportManifestRequest, ExportPageRequest, Rpc } from '@dsg/contracts';
import { RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { ExportsService } from './exports.service';

/**
 * Auditor exports: the register's entries hold personal details, so people ask for them through
 * the gateway, as auditors or privacy officers (POL-7).
 */
@Controller()
export class ExportsController {
  constructor(private readonly exports: ExportsService) {}

  @MessagePattern(Rpc['disclosure-register'].exportManifest.subject)
  @RequireRole('auditor', 'privacy_officer')
  manifest(@Payload() request: ExportManifestRequest) {
    return this.exports.manifest(request);
  }

  @MessagePattern(Rpc['disclosure-register'].exportPage.subject)
  @RequireRole('auditor', 'privacy_officer')
  page(@Payload() request: ExportPageRequest) {
    return this.exports.page(request);
  }
}
