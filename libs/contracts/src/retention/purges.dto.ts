import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  IsArray,
  IsBoolean,
  IsIn,
  IsInt,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import { UUID_PATTERN } from '../register/disclosures.dto';
import { HOLDING_SYSTEMS, type HoldingSystem } from './holdings.dto';

/** Items a purge command, a confirmation or an acknowledgement carries at most. */
export const MAX_PURGE_ITEMS = 1000;

/**
 * The life of a purge item: `issued` (in a command to its system), `confirmed` (the holder is
 * about to execute it), then `done`, `held` (a legal hold covered it at confirmation: nothing
 * was done, RET-6), `superseded` (the holding was declared again and is no longer due), or
 * `dead-lettered` (no success after the set number of attempts; operators see it). `failed` is an
 * attempt that failed and will be retried.
 */
export const PURGE_ITEM_STATES = [
  'issued',
  'confirmed',
  'failed',
  'done',
  'held',
  'superseded',
  'dead-lettered',
] as const;
export type PurgeItemState = (typeof PURGE_ITEM_STATES)[number];

/** One thing to purge: a category of one subject's data in the system the command goes to. */
export class PurgeItem {
  @IsString() itemId!: string;
  @IsString() clientId!: string;
  @IsString() category!: string;
  /** delete, de-identify or redact: from the retention rule or the erasure. */
  @IsString() action!: string;
  /** The rule the purge rests on (RET-1 …, CCP-4, KID-1, POL-5). */
  @IsString() rule!: string;
  /** 1 on the first issue; the holder need not care, a repeat is the same item. */
  @IsInt() attempt!: number;
  /**
   * The latest clock date the holding was declared with: purge what was held of the category for
   * the subject up to then (data newer than that is a new declaration). Absent for an erasure:
   * everything of the category.
   */
  @IsOptional() @IsString() through?: string;
}

/**
 * A purge command, published on JetStream to `<prefix>.retention.purges.<system>` (stream
 * `<PREFIX>_RETENTION_PURGES`) as the `data` of a `purge.requested` event. The holder confirms
 * each item just before executing it (a legal hold may have arrived since), executes it, and
 * acknowledges it with what was done.
 */
export class PurgeCommand {
  @IsString() commandId!: string;
  @IsIn(HOLDING_SYSTEMS) system!: HoldingSystem;
  /** Why: a scheduled sweep or a subject's erasure request. */
  @IsIn(['sweep', 'erasure']) source!: 'sweep' | 'erasure';
  @IsOptional() @IsString() sweepId?: string;
  @IsOptional() @IsString() erasureId?: string;
  @IsArray() @ValidateNested({ each: true }) @Type(() => PurgeItem) items!: PurgeItem[];
}

export class ConfirmPurgeRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PURGE_ITEMS)
  @Matches(UUID_PATTERN, { each: true, message: 'each item id must be a UUID' })
  itemIds!: string[];
}

/** Per item: go ahead, or do not (and why). */
export class PurgeConfirmation {
  @IsString() itemId!: string;
  @IsBoolean() proceed!: boolean;
  /**
   * When not: LEGAL_HOLD (a hold covers it now, RET-6: the data is kept), NOT_DUE (declared
   * again since and not due), ALREADY_DONE (acknowledged before: a repeat delivery), DEAD_LETTERED,
   * NOT_FOUND (no such item for this system).
   */
  @IsOptional() @IsString() code?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) heldBy?: string[];
}

export class ConfirmPurgeReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PurgeConfirmation)
  items!: PurgeConfirmation[];
}

export const PURGE_OUTCOMES = ['done', 'failed'] as const;

export class PurgeAck {
  @Matches(UUID_PATTERN, { message: 'itemId must be a UUID' }) itemId!: string;
  @IsIn(PURGE_OUTCOMES) outcome!: (typeof PURGE_OUTCOMES)[number];
  /**
   * What was done (done: e.g. "deleted 3 appointments") or what went wrong (failed). Never
   * personal data: it is shown to operators.
   */
  @IsString() @MaxLength(500) detail!: string;
}

export class AckPurgeRequest {
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(MAX_PURGE_ITEMS)
  @ValidateNested({ each: true })
  @Type(() => PurgeAck)
  items!: PurgeAck[];
}

export class PurgeAckResult {
  @IsString() itemId!: string;
  @IsIn(PURGE_ITEM_STATES) state!: PurgeItemState;
  /** NOT_CONFIRMED (acknowledged without a confirmation), NOT_FOUND. */
  @IsOptional() @IsString() code?: string;
}

export class AckPurgeReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PurgeAckResult)
  items!: PurgeAckResult[];
}

export class ListPurgeItemsRequest {
  @IsOptional() @IsIn(PURGE_ITEM_STATES) state?: PurgeItemState;
  @IsOptional() @IsIn(HOLDING_SYSTEMS) system?: HoldingSystem;
  @IsOptional() @Matches(UUID_PATTERN, { message: 'erasureId must be a UUID' }) erasureId?: string;
  @IsOptional() @IsInt() @Min(1) @Max(500) limit?: number;
  /** The `next` of the previous page. */
  @IsOptional() @Matches(UUID_PATTERN, { message: 'after must be a UUID' }) after?: string;
}

export class PurgeItemReply {
  @IsString() itemId!: string;
  @IsString() system!: string;
  @IsString() clientId!: string;
  @IsString() category!: string;
  @IsString() action!: string;
  @IsString() rule!: string;
  @IsIn(['sweep', 'erasure']) source!: 'sweep' | 'erasure';
  @IsOptional() @IsString() sweepId?: string;
  @IsOptional() @IsString() erasureId?: string;
  @IsIn(PURGE_ITEM_STATES) state!: PurgeItemState;
  @IsInt() attempts!: number;
  @IsString() issuedAt!: string;
  /** When the item is issued again if nothing is heard (open items). */
  @IsOptional() @IsString() retryAt?: string;
  @IsOptional() @IsString() finishedAt?: string;
  /** The holder's last word: what was done, or what went wrong. */
  @IsOptional() @IsString() detail?: string;
  @IsOptional() @IsArray() @IsString({ each: true }) heldBy?: string[];
}

export class ListPurgeItemsReply {
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PurgeItemReply)
  items!: PurgeItemReply[];
  @IsOptional() @IsString() next?: string;
}

/** An operator asks for a sweep now (besides the configured schedule). */
export class RunSweepRequest {
  /** Sweep what was due by this moment, now or earlier (default now). */
  @IsOptional() @IsString() dueBy?: string;
}

export class SweepReply {
  @IsString() sweepId!: string;
  @IsIn(['running', 'completed', 'interrupted', 'busy']) state!: string;
  @IsString() startedAt!: string;
  @IsOptional() @IsString() finishedAt?: string;
  /** Items issued by this sweep. */
  @IsInt() issued!: number;
  /** Due holdings a legal hold kept (RET-6). */
  @IsInt() held!: number;
  /** A sweep that an earlier one, interrupted, is resumed by. */
  @IsOptional() @IsString() resumes?: string;
}

export class ListSweepsRequest {
  @IsOptional() @IsInt() @Min(1) @Max(100) limit?: number;
}

export class ListSweepsReply {
  @IsArray() @ValidateNested({ each: true }) @Type(() => SweepReply) sweeps!: SweepReply[];
}

/** One item in a purge.acknowledged or purge.failed event. */
export class PurgeItemEvent {
  @IsString() itemId!: string;
  @IsString() category!: string;
  @IsString() rule!: string;
  @IsIn(PURGE_ITEM_STATES) state!: PurgeItemState;
  @IsInt() attempts!: number;
  @IsOptional() @IsString() erasureId?: string;
  @IsOptional() @IsString() sweepId?: string;
}

/**
 * Events purge.acknowledged (items done, or kept by a hold found at confirmation, or
 * superseded) and purge.failed (items dead-lettered): one event per system per transaction that
 * settled them, listing the items.
 */
export class PurgeItemsSettled {
  @IsString() system!: string;
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => PurgeItemEvent)
  items!: PurgeItemEvent[];
}
