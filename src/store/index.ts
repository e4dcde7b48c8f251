export { RunStore } from './runStore';
export type { RunStatus, RunRecord, NewRun, RunPatch, MetricRow, SampleRow, EvalRow } from './runStore';
export { StoreError } from './errors';
export type { StoreErrorCode } from './errors';
export { SCHEMA_VERSION } from './schema';
export { defaultDbPath } from './defaultPath';
export { currentOwner, ownerIsAlive, describeOwner, type RunOwner } from './owner';
