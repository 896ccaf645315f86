import { QueryEntriesRequest, Rpc } from '@dsg/contracts';
import { RequireRole } from '@dsg/platform';
import { Controller } from '@nestjs/common';
import { MessagePattern, Payload } from '@nestjs/microservices';
import { EntriesService } from './entries.service';

/** Entries hold personal details: people query them through the gateway (POL-7). */
@Controller()
export class EntriesController {
  constructor(private readonly entries: EntriesService) {}

  @MessagePattern(Rpc['disclosure-register'].entriesQuery.subject)
  @RequireRole('auditor', 'privacy_officer')
  query(@Payload() request: QueryEntriesRequest) {
    return this.entries.query(request);
  }
}
