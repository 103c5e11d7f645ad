/**
 * RmxCodec block tags: the low byte of a block's tag word. The next byte of
 * the tag word counts the payload words that come before the pointers
 * (array: 2, token: 1), which is why arrays carry 0x210 and tokens 0x11c.
 */
export const TAG_UNDEFINED = 0;
export const TAG_BOOL = 1;
export const TAG_NULL = 2;
export const TAG_INT64 = 3;
export const TAG_NUMBER = 4;
export const TAG_HANDLE = 6;
export const TAG_EMPTYMAP = 7;
export const TAG_STRING = 8;
export const TAG_TAGGEDSTRING = 9;
export const TAG_BINARY = 10;
export const TAG_OPAQUE = 12;
export const TAG_ARRAY = 16;
export const TAG_MAP = 17;
export const TAG_IOMAP = 25;
export const TAG_CASE = 26;
export const TAG_TOKEN = 28;

export const TAGWORD_ARRAY = 0x210;
export const TAGWORD_TOKEN = 0x11c;

/** Fills a block up to an even number of words. */
export const PAD_WORD = 0xffffffff;

/** The bool payload word for true (false is 0). */
export const BOOL_TRUE = 2;
