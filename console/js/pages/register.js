// @ts-check
// Registration with an invitation, as DfnsAuthenticator.register does it with a WebAuthn signer:
// POST /auth/registration/init {orgId, username, registrationCode} → a registration challenge and
// a temporary token; navigator.credentials.create answers it; POST /auth/registration (Bearer: the
// temporary token) {firstFactorCredential} stores the passkey. Then the user logs in with it.
import { publicPost } from "../api.js";
import { byId, field } from "../dom.js";
import { createPasskey, passkeysSupported } from "../passkeys.js";
import { rememberLogin } from "../session.js";
import { onSubmit, say, showError } from "../shell.js";

const params = new URLSearchParams(location.search);
const form = byId("register-form", HTMLFormElement);
byId("org-id", HTMLInputElement).value = params.get("org") ?? "";
byId("username", HTMLInputElement).value = params.get("username") ?? "";
byId("registration-code", HTMLInputElement).value = params.get("code") ?? "";
const firstEmpty = [...form.querySelectorAll("input")].find((i) => !i.value);
(firstEmpty ?? form.querySelector("button"))?.focus();
if (!passkeysSupported()) showError("This browser does not support passkeys (WebAuthn); the console needs them.");

onSubmit(form, async () => {
  const invitation = { orgId: field(form, "orgId"), username: field(form, "username"), registrationCode: field(form, "registrationCode") };
  say("Creating your passkey…");
  const challenge = await publicPost("/auth/registration/init", invitation);
  const firstFactorCredential = await createPasskey(challenge);
  await publicPost("/auth/registration", { firstFactorCredential }, challenge.temporaryAuthenticationToken);
  rememberLogin({ orgId: invitation.orgId, username: invitation.username });
  // The code is spent: drop it from the address bar and history before moving on.
  history.replaceState(null, "", "./register");
  location.assign(`./?message=${encodeURIComponent("Your passkey is registered. Log in with it.")}`);
});
