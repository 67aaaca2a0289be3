import { Inject, Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { PROPAGATION_OPTIONS, PropagationOptions } from './propagation-options';
import { promoteIn } from './delivery-sql';
import type { ReadyDelivery } from './delivery-types';

/** The per-(slave, member) order: which waiting deliveries become the head of their line. */
@Injectable()
export class DeliveryLines {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    @Inject(PROPAGATION_OPTIONS) private readonly options: PropagationOptions,
  ) {}

  /** Makes `ready` the waiting heads of lines (of some members or slaves when given). */
  promote(scope: { members?: number[]; slaves?: number[] } = {}): Promise<ReadyDelivery[]> {
    return promoteIn(this.db, this.options.clock?.now() ?? new Date(), scope);
  }
}
