/** Copies @simplewebauthn/browser's ES module build into console/vendor/ (see vendor-console.mjs). */
export function vendorConsoleLibraries(): { version: string; directory: string };
