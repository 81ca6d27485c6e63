export { readX12Members } from './read-834.js';
export { detectSeparators, type X12Separators } from './separators.js';
export { SegmentSplitter, type X12Segment } from './segment-splitter.js';
