// @ts-check
// Login, as DfnsAuthenticator.login does it with a WebAuthn signer: POST /auth/login/init
// {username, orgId} → a challenge listing the user's passkeys; the passkey signs it;
// POST /auth/login {challengeIdentifier, firstFactor} → {token} (one hour).
import { publicPost } from "../api.js";
import { byId, field } from "../dom.js";
import { passkeysSupported, signChallenge } from "../passkeys.js";
import { currentSession, rememberedLogin, startSession } from "../session.js";
import { onSubmit, say, showError } from "../shell.js";

const params = new URLSearchParams(location.search);
/** Only a page of this console: never an absolute or protocol-relative URL from the query. */
const next = /^[a-z-]+(\?[^/]*)?$/.test(params.get("next") ?? "") ? String(params.get("next")) : "wallets";

const form = byId("login-form", HTMLFormElement);
const orgInput = byId("org-id", HTMLInputElement);
const userInput = byId("username", HTMLInputElement);
const remembered = rememberedLogin();
orgInput.value = params.get("org") ?? remembered?.orgId ?? "";
userInput.value = params.get("username") ?? remembered?.username ?? "";
(orgInput.value ? userInput : orgInput).focus();
if (userInput.value && orgInput.value) form.querySelector("button")?.focus();

if (params.get("message")) say(String(params.get("message")));
if (currentSession() && !params.get("message")) location.replace(`./${next}`);
if (!passkeysSupported()) showError("This browser does not support passkeys (WebAuthn); the console needs them.");

onSubmit(form, async () => {
  const login = { orgId: field(form, "orgId"), username: field(form, "username") };
  say("Waiting for your passkey…");
  const challenge = await publicPost("/auth/login/init", login);
  const firstFactor = await signChallenge(challenge, { login: true, orgId: login.orgId });
  const { token } = await publicPost("/auth/login", { challengeIdentifier: challenge.challengeIdentifier, firstFactor });
  startSession(token, login);
  say("Logged in.");
  location.assign(`./${next}`);
});
