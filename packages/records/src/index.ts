export {
  type DatabaseStartupCode,
  DatabaseStartupError,
  DatabaseUnavailableError,
  RecordValueError,
} from "./errors.js";
export { LmdbRecordStore, LmdbRecords } from "./lmdb-records.js";
export {
  MAX_KEY_BYTES,
  MAX_RECORD_BYTES,
  type RecordEntry,
  type RecordStore,
  type Records,
  type RecordWrites,
  type UpdateDecision,
} from "./record-store.js";
