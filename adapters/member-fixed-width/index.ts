export { readFixedWidthMembers } from './read-fixed-width.js';
