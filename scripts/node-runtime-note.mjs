// Runs on `npm install` (postinstall). npm itself ran on the machine's Node, which may be older
// than 22: it then warns EBADENGINE for packages that need 22 — correctly for the Node running
// npm, wrongly for this project, whose scripts, tests and `npx` run on the Node 22 installed by
// the `node` devDependency (node_modules/.bin/node comes first on PATH inside npm scripts). npm
// has no switch to check engines against another Node, so the warnings stay; this says why.
import { pathToFileURL } from "node:url";

/** @param {string | undefined} userAgent npm's user agent ("npm/11.1.0 node/v20.20.2 linux x64 …") */
export function noteForNpmNode(userAgent) {
  const npmNode = /\bnode\/v(\d+)\.\d+\.\d+/.exec(userAgent ?? "");
  if (!npmNode || Number(npmNode[1]) >= 22) return undefined;
  return (
    `node: npm ran on the system's Node v${npmNode[0].slice(6)}, hence any EBADENGINE warnings above; ` +
    `Tessera runs on Node ${process.versions.node} from the \`node\` devDependency (npm run / npx use it).`
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const note = noteForNpmNode(process.env.npm_config_user_agent);
  if (note) console.log(note);
}
