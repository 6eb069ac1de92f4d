// Browser-safe operator entry point: every operator here, and the core it uses,
// imports no Node built-ins. (The `checkpoint` operator touches the file system
// and is exported from the package root instead.)
export { withWatermark, type WithWatermarkOptions } from './withWatermark.js';
export { union, type UnionOptions } from './union.js';
export { dropDuplicates, type DropDuplicatesOptions } from './dropDuplicates.js';
export { dropDuplicatesWithinWatermark, type DropDuplicatesWithinWatermarkOptions } from './dropDuplicatesWithinWatermark.js';
