import {
  canonicalJson,
  DsgError,
  type FieldError,
  ErrorCodes,
  LEGAL_BASES,
  categoryPaths,
} from '@dsg/contracts';
import { toFieldErrors } from '@dsg/platform';
import { plainToInstance, Type } from 'class-transformer';
import {
  ArrayNotEmpty,
  IsArray,
  IsBoolean,
  IsDateString,
  IsIn,
  IsOptional,
  IsString,
  Matches,
  ValidateNested,
  validateSync,
} from 'class-validator';
import { createHash } from 'node:crypto';
import { parse } from 'yaml';

const ID = /^[a-z][a-z0-9-]*$/;
const ISO_PERIOD = /^P(\d+Y)?(\d+M)?(\d+D)?$/;

/** The legal bases a check may name, and `none` for a purpose that has none (a sale). */
export const PURPOSE_BASES = [...LEGAL_BASES, 'none'] as const;
export const TPO = ['treatment', 'payment', 'operations', 'none'] as const;

class PolicyHeader {
  @Matches(ID) id!: string;
  @IsString() @Matches(/^[0-9A-Za-z.-]+$/) version!: string;
  @IsDateString() effectiveDate!: string;
  @IsBoolean() material!: boolean;
  @IsString() title!: string;
  @IsOptional() contact?: { email?: string; phone?: string };
}

export class CategoryNode {
  @Matches(ID) id!: string;
  @IsString() label!: string;
  @IsOptional() @IsString() section?: string;
  /** HIPAA-protected health information (HIP-5: no PHI to a vendor without a BAA). */
  @IsOptional() @IsBoolean() phi?: boolean;
  @IsOptional()
  @IsArray()
  @ValidateNested({ each: true })
  @Type(() => CategoryNode)
  children?: CategoryNode[];
}

export class Purpose {
  @Matches(ID) id!: string;
  @IsString() label!: string;
  @IsString() section!: string;
  @IsIn(PURPOSE_BASES) basis!: (typeof PURPOSE_BASES)[number];
  @IsIn(TPO) tpo!: (typeof TPO)[number];
  @IsBoolean() optOut!: boolean;
  @IsIn(['required', 'not-required']) authorization!: 'required' | 'not-required';
  @IsBoolean() sale!: boolean;
}

export class RecipientKind {
  @Matches(ID) id!: string;
  @IsString() label!: string;
  @IsString() section!: string;
  @IsBoolean() businessAssociate!: boolean;
}

export class RetentionRule {
  @Matches(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)*$/) category!: string;
  @Matches(ISO_PERIOD, { message: 'period must be an ISO 8601 period such as P7Y or P90D' })
  period!: string;
  @IsIn(['last-encounter', 'creation', 'end-of-relationship', 'last-effective-date']) from!: string;
  @IsOptional() @IsIn(['19th-birthday']) minorFloor?: string;
  @IsIn(['delete', 'de-identify', 'redact']) action!: string;
  @Matches(/^RET-\d+$/) rule!: string;
}

export class PolicyBundle {
  @ValidateNested() @Type(() => PolicyHeader) policy!: PolicyHeader;
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => CategoryNode)
  categories!: CategoryNode[];
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => Purpose)
  purposes!: Purpose[];
  @IsArray()
  @ArrayNotEmpty()
  @ValidateNested({ each: true })
  @Type(() => RecipientKind)
  recipientKinds!: RecipientKind[];
  @IsArray() @ValidateNested({ each: true }) @Type(() => RetentionRule) retention!: RetentionRule[];
}

export interface LoadedBundle {
  bundle: PolicyBundle;
  /** SHA-256 over the canonical JSON of the bundle: what a version's identity rests on. */
  contentHash: string;
  /** Every category as a dot path (`health.medications`), parents before children. */
  categoryPaths: string[];
}

/**
 * Parses and validates a bundle. Every problem is reported at once with its path in the file
 * (`purposes.3.basis`), as a DsgError the service refuses to start on.
 */
export function loadPolicyBundle(yamlText: string): LoadedBundle {
  let raw: unknown;
  try {
    raw = parse(yamlText);
  } catch (err) {
    throw new DsgError(
      ErrorCodes.VALIDATION_FAILED,
      `Policy bundle is not valid YAML: ${(err as Error).message}`,
    );
  }
  const bundle = plainToInstance(PolicyBundle, raw);
  const fields: FieldError[] = toFieldErrors(validateSync(bundle, { forbidUnknownValues: true }));
  if (fields.length === 0) fields.push(...crossChecks(bundle));
  if (fields.length > 0) {
    throw new DsgError(
      ErrorCodes.VALIDATION_FAILED,
      `Invalid policy bundle: ${fields.map((f) => f.field).join(', ')}`,
      fields,
    );
  }
  return {
    bundle,
    contentHash: sha256(canonicalJson(raw)),
    categoryPaths: categoryPaths(bundle.categories),
  };
}

function crossChecks(bundle: PolicyBundle): FieldError[] {
  const errors: FieldError[] = [];
  const paths = categoryPaths(bundle.categories);
  const duplicates = (ids: string[]) => ids.filter((id, i) => ids.indexOf(id) !== i);
  for (const path of duplicates(paths)) {
    errors.push({
      field: 'categories',
      constraint: 'unique',
      message: `category ${path} is defined twice`,
    });
  }
  for (const [field, list] of [
    ['purposes', bundle.purposes],
    ['recipientKinds', bundle.recipientKinds],
  ] as const) {
    for (const id of duplicates(list.map((x) => x.id))) {
      errors.push({ field, constraint: 'unique', message: `${id} is defined twice` });
    }
  }
  bundle.retention.forEach((rule, i) => {
    if (!paths.includes(rule.category)) {
      errors.push({
        field: `retention.${i}.category`,
        constraint: 'knownCategory',
        message: `no category ${rule.category}`,
      });
    }
  });
  bundle.purposes.forEach((purpose, i) => {
    // POL-1: a sale is never allowed without authorization, and never treatment/payment/operations.
    if (purpose.sale && (purpose.authorization !== 'required' || purpose.tpo !== 'none')) {
      errors.push({
        field: `purposes.${i}`,
        constraint: 'saleRules',
        message: 'a sale purpose must require authorization and be outside TPO',
      });
    }
  });
  return errors;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
