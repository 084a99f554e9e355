/** Copies @simplewebauthn/browser's ES module build into console/vendor/ unless already exact (see vendor-console.mjs). */
export function vendorConsoleLibraries(): { version: string; directory: string; copied: boolean };
