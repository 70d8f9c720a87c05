/**
 * Any control a terminal acts on (C0 but the line break, DEL, C1) and any bidi formatting character,
 * which reorders what a reader sees (cli/terminal.ts).
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/;
