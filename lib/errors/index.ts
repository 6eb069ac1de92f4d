export { StreamingError, isStreamingError, describeValue } from './StreamingError.js';
export { InvalidArgumentError, InvalidDurationError, InvalidOptionError } from './InvalidArgumentError.js';
export { UnsupportedOperationError } from './UnsupportedOperationError.js';
export { EventTimeError, BatchSequenceError } from './EventTimeError.js';
export { UserFunctionError } from './UserFunctionError.js';
export { CheckpointError, CheckpointCorruptError, CheckpointIncompatibleError, CheckpointIOError } from './CheckpointError.js';
export { SourceError, SinkError, SinkConflictError, SourceBufferOverflowError, KafkaOffsetLookupError, MalformedRecordError } from './SourceError.js';
export { InvariantViolationError, invariant } from './InvariantViolationError.js';
export { InvalidValueError, describeType } from './InvalidValueError.js';
