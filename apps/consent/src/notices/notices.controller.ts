import { ListNoticesRequest, Rpc } from '@dsg/contracts';
import { RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { NoticesService } from './notices.service';

/** Outbound notices and their delivery state, for auditors and privacy officers. */
@Controller()
export class NoticesController {
  constructor(private readonly notices: NoticesService) {}

  @MessagePattern(Rpc.consent.noticesList.subject)
  @RequireRole('auditor', 'privacy_officer')
  list(@Payload() request: ListNoticesRequest) {
    return this.notices.list(request);
  }
}
