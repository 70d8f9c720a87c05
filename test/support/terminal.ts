/** Any control a terminal acts on: C0 but the line break, DEL, C1 (cli/terminal.ts). */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const CONTROLS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
