// API overhead of layers 1–2 (authentication, user-action signing, permissions, audit) per request,
// measured over loopback HTTP against the Worker in local workerd (wrangler dev --local), beside a
// baseline from the same run: the bare hello route (GET /, no auth), so loopback + runtime cost
// cancels out. Writes bench/results/api-auth.json.
//
//   baseline            GET /                      no layer runs
//   authenticated read  GET /permissions           JWT verify + org DO revocation check + permit + audit write + handler
//   signed change       POST /auth/action/init, POST /auth/action, PUT /permissions/:id
//                       (the three requests an @dfns/sdk user-action call costs; timed as one)
import { spawn } from "node:child_process";
import { createPrivateKey, generateKeyPairSync, randomBytes, sign } from "node:crypto";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const WARMUP = 30;
const N_READ = Number(process.env.BENCH_N ?? 400);
const N_SIGNED = Math.max(50, Math.floor(N_READ / 4));

const freePort = () =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });

async function startApi() {
  const port = await freePort();
  const stateDir = mkdtempSync(join(tmpdir(), "tessera-bench-"));
  const secret = randomBytes(24).toString("base64url");
  const child = spawn(
    join(root, "node_modules/.bin/wrangler"),
    ["dev", "--local", "--ip", "127.0.0.1", "--port", String(port), "--inspector-port", String(await freePort()), "--persist-to", stateDir,
      "--show-interactive-dev-session=false", "--var", `TESSERA_BOOTSTRAP_SECRET:${secret}`],
    { cwd: root, env: { ...process.env, CLOUDFLARE_CF_FETCH_ENABLED: "false", WRANGLER_SEND_METRICS: "false" }, stdio: ["ignore", "pipe", "pipe"] },
  );
  let out = "";
  await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`not ready:\n${out}`)), 60_000);
    const on = (b) => {
      out += b;
      if (/Ready on/.test(out)) {
        clearTimeout(t);
        resolve();
      }
    };
    child.stdout.on("data", on);
    child.stderr.on("data", on);
    child.once("exit", (c) => reject(new Error(`wrangler exited ${c}\n${out}`)));
  });
  return {
    base: `http://127.0.0.1:${port}`,
    secret,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}

function stats(samples) {
  const s = [...samples].sort((a, b) => a - b);
  const q = (p) => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  return { n: s.length, p50_ms: +q(0.5).toFixed(3), p99_ms: +q(0.99).toFixed(3), mean_ms: +(s.reduce((a, b) => a + b, 0) / s.length).toFixed(3) };
}

async function time(fn) {
  const t0 = performance.now();
  await fn();
  return performance.now() - t0;
}

async function ok(res) {
  if (!res.ok) throw new Error(`${res.status} ${await res.text()}`);
  return res.json();
}

const api = await startApi();
try {
  const { publicKey, privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const boot = await ok(
    await fetch(`${api.base}/admin/bootstrap`, {
      method: "POST",
      headers: { authorization: `Bearer ${api.secret}`, "content-type": "application/json" },
      body: JSON.stringify({ serviceAccount: { publicKey: publicKey.export({ type: "spki", format: "pem" }) } }),
    }),
  );
  const auth = { authorization: `Bearer ${boot.serviceAccount.accessToken}`, "content-type": "application/json" };
  const key = createPrivateKey(privateKey.export({ type: "pkcs8", format: "pem" }));
  const permission = await (async () => {
    // The first signed call also creates the permission the signed-change loop updates.
    const body = JSON.stringify({ name: "bench", operations: ["Wallets:Read"] });
    return ok(await signedCall("POST", "/permissions", body));
  })();

  async function signedCall(method, path, body) {
    const init = await ok(
      await fetch(`${api.base}/auth/action/init`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({ userActionPayload: body, userActionHttpMethod: method, userActionHttpPath: path, userActionServerKind: "Api" }),
      }),
    );
    const clientData = Buffer.from(JSON.stringify({ type: "key.get", challenge: init.challenge }));
    const firstFactor = {
      kind: "Key",
      credentialAssertion: { credId: boot.serviceAccount.credId, clientData: clientData.toString("base64url"), signature: sign(undefined, clientData, key).toString("base64url") },
    };
    const { userAction } = await ok(
      await fetch(`${api.base}/auth/action`, { method: "POST", headers: auth, body: JSON.stringify({ challengeIdentifier: init.challengeIdentifier, firstFactor }) }),
    );
    return fetch(`${api.base}${path}`, { method, headers: { ...auth, "x-dfns-useraction": userAction }, body });
  }

  const baseline = [];
  const read = [];
  const signed = [];
  for (let i = 0; i < WARMUP; i++) {
    await ok(await fetch(`${api.base}/`));
    await ok(await fetch(`${api.base}/permissions`, { headers: auth }));
  }
  // Interleaved, so drift (GC, JIT, disk) affects every series alike.
  for (let i = 0; i < N_READ; i++) {
    baseline.push(await time(async () => ok(await fetch(`${api.base}/`))));
    read.push(await time(async () => ok(await fetch(`${api.base}/permissions/${permission.id}`, { headers: auth }))));
    if (i % Math.floor(N_READ / N_SIGNED) === 0) {
      signed.push(await time(async () => ok(await signedCall("PUT", `/permissions/${permission.id}`, JSON.stringify({ name: `bench ${i}` })))));
    }
  }
  const b = stats(baseline);
  const r = stats(read);
  const s = stats(signed);
  const result = {
    benchmark: "api-auth",
    date: new Date().toISOString(),
    runtime: "wrangler dev --local (workerd), loopback HTTP, Node 22 fetch client, sequential requests",
    baseline_hello: b,
    authenticated_read: r,
    signed_change_3_requests: s,
    overhead: {
      authenticated_read_p50_ms: +(r.p50_ms - b.p50_ms).toFixed(3),
      authenticated_read_p99_ms: +(r.p99_ms - b.p99_ms).toFixed(3),
      signed_change_p50_ms: +(s.p50_ms - b.p50_ms).toFixed(3),
      signed_change_p99_ms: +(s.p99_ms - b.p99_ms).toFixed(3),
    },
  };
  mkdirSync(join(root, "bench/results"), { recursive: true });
  writeFileSync(join(root, "bench/results/api-auth.json"), JSON.stringify(result, null, 2) + "\n");
  console.log(JSON.stringify(result, null, 2));
} finally {
  await api.stop();
}
