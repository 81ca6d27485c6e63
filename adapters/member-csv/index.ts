export { readDelimitedMembers } from './read-delimited.js';
export { DelimitedTokenizer, type TokenizedRow, type TokenizerOptions } from './delimited-tokenizer.js';
