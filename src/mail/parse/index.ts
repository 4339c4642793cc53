export { parseMessage, ParsePool, configureDefaultParsePool, getDefaultParsePool, closeDefaultParsePool } from './pool.js';
export type { ParsePoolOptions, ParsePoolStats } from './pool.js';
export { parseMessageInline, charsetKnown } from './parse-inline.js';
export { fallbackMessage } from './build.js';
export { parseMailDate } from './date.js';
export { DEFAULT_PARSE_LIMITS, resolveLimits } from './limits.js';
export type { ParseLimits } from './limits.js';
export { scanStructure } from './structure.js';
export type { StructureScan } from './structure.js';
export type {
  ParsedMessage,
  ParsedAttachment,
  MailAddress,
  MalformedReason,
  ClassificationHeaders,
  ReportPart,
  HeaderField,
} from '../message/message.js';
export { summariseMessage, participantsOf, displayNameLooksLikeAddress } from '../message/message.js';
