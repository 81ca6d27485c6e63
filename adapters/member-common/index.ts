export * from './types.js';
export {
  layoutProfileSchema,
  MEMBER_FORMATS,
  type MemberFormat,
  type DelimitedLayout,
  type FixedWidthLayout,
  type XlsxLayout,
  type X12Layout,
  type TabularLayout,
} from './layout-schema.js';
export { loadMemberLayout, parseMemberLayout, memberLayoutPath, type LoadMemberLayoutOptions, type LayoutOf } from './layout-loader.js';
export { readMemberFile } from './read-member-file.js';
export { parseDate, compileDateFormat } from './dates.js';
