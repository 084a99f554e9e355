/** The one-line explanation of npm's EBADENGINE warnings when npm ran on a Node older than 22, else undefined (see node-runtime-note.mjs). */
export function noteForNpmNode(userAgent: string | undefined): string | undefined;
