export { readXlsxMembers } from './read-xlsx.js';
export { cellText } from './cell-text.js';
