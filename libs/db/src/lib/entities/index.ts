import { AppFrobEntity, AppGrantEntity, AppKeyEntity, AppTokenEntity } from './app.entities';
import { AdminTokenEntity } from './admin-token.entity';
import { AuditEventEntity } from './audit-event.entity';
import { OutboxEventEntity } from './outbox-event.entity';
import { DeliveryAttemptEntity } from './delivery-attempt.entity';
import { DeliveryEntity } from './delivery.entity';
import { LoginLockoutEntity } from './login-lockout.entity';
import { MemberEntity } from './member.entity';
import { SettingEntity } from './setting.entity';
import { SlaveEntity } from './slave.entity';
import { PropagationChangeEntity, PropagatorOutboxEntity, SlaveDeliveryHealthEntity } from './propagation.entities';

export * from './delivery.entity';
export { AdminTokenEntity, AppFrobEntity, AppGrantEntity, AppKeyEntity, AppTokenEntity, AuditEventEntity, DeliveryAttemptEntity, LoginLockoutEntity, MemberEntity, OutboxEventEntity, PropagationChangeEntity, PropagatorOutboxEntity, SettingEntity, SlaveDeliveryHealthEntity, SlaveEntity };

/** Every entity, listed by class so that a webpack bundle finds them (no glob paths). */
export const ENTITIES = [SlaveEntity, OutboxEventEntity, AuditEventEntity, MemberEntity, SettingEntity, DeliveryEntity, DeliveryAttemptEntity, AppKeyEntity, AppFrobEntity, AppGrantEntity, AppTokenEntity, PropagationChangeEntity, PropagatorOutboxEntity, SlaveDeliveryHealthEntity, LoginLockoutEntity, AdminTokenEntity];
