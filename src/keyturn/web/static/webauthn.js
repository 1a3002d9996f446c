// Passkeys in the browser (docs/passkeys-and-step-up.md): the WebAuthn ceremonies, with
// options and answers in the JSON the API speaks (base64url), one ceremony at a time.

const b64url = {
  decode(text) {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4);
    return Uint8Array.from(atob(base64), (c) => c.charCodeAt(0)).buffer;
  },
  encode(buffer) {
    let binary = "";
    for (const byte of new Uint8Array(buffer)) binary += String.fromCharCode(byte);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
};

export function passkeysSupported() {
  return typeof window.PublicKeyCredential === "function" && Boolean(navigator.credentials);
}

/** Whether the browser can offer passkeys as autofill (conditional mediation). */
export async function autofillSupported() {
  if (!passkeysSupported() || typeof PublicKeyCredential.isConditionalMediationAvailable !== "function") return false;
  try {
    return await PublicKeyCredential.isConditionalMediationAvailable();
  } catch {
    return false;
  }
}

// Older browsers lack PublicKeyCredential.parse...FromJSON / toJSON: convert by hand.
const descriptors = (list) => (list || []).map((c) => ({ ...c, id: b64url.decode(c.id) }));

function creationOptions(json) {
  if (typeof PublicKeyCredential.parseCreationOptionsFromJSON === "function") {
    return PublicKeyCredential.parseCreationOptionsFromJSON(json);
  }
  return {
    ...json,
    challenge: b64url.decode(json.challenge),
    user: { ...json.user, id: b64url.decode(json.user.id) },
    excludeCredentials: descriptors(json.excludeCredentials),
  };
}

function requestOptions(json) {
  if (typeof PublicKeyCredential.parseRequestOptionsFromJSON === "function") {
    return PublicKeyCredential.parseRequestOptionsFromJSON(json);
  }
  return { ...json, challenge: b64url.decode(json.challenge), allowCredentials: descriptors(json.allowCredentials) };
}

function answerJSON(credential) {
  if (typeof credential.toJSON === "function") return credential.toJSON();
  const r = credential.response;
  const response = { clientDataJSON: b64url.encode(r.clientDataJSON) };
  if (r.attestationObject) {
    response.attestationObject = b64url.encode(r.attestationObject);
    response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
  } else {
    response.authenticatorData = b64url.encode(r.authenticatorData);
    response.signature = b64url.encode(r.signature);
    if (r.userHandle) response.userHandle = b64url.encode(r.userHandle);
  }
  return {
    id: credential.id,
    rawId: b64url.encode(credential.rawId),
    type: credential.type,
    response,
    authenticatorAttachment: credential.authenticatorAttachment || null,
  };
}

let pending = null; // the ceremony in flight; a new one cancels it (an autofill waits there)

/** Stop a waiting autofill (before another ceremony, or once signed in another way). */
export function cancelPasskeyRequest() {
  if (pending) pending.abort();
  pending = null;
}

/** navigator.credentials.get() for the API's request options; the answer as JSON. An
 * autofill (`conditional`) resolves only when the person picks a passkey, null if cancelled. */
export async function getPasskey(optionsJSON, { conditional = false } = {}) {
  cancelPasskeyRequest();
  const controller = new AbortController();
  pending = controller;
  try {
    const credential = await navigator.credentials.get({
      publicKey: requestOptions(optionsJSON),
      mediation: conditional ? "conditional" : "optional",
      signal: controller.signal,
    });
    return credential ? answerJSON(credential) : null;
  } catch (err) {
    if (controller.signal.aborted) return null;
    throw err;
  } finally {
    if (pending === controller) pending = null;
  }
}

/** navigator.credentials.create() for the API's creation options; the answer as JSON. */
export async function createPasskey(optionsJSON) {
  cancelPasskeyRequest();
  return answerJSON(await navigator.credentials.create({ publicKey: creationOptions(optionsJSON) }));
}

/** The sentence for a browser's refusal (a DOMException), or null for other errors. */
export function browserRefusal(err, t) {
  const words = {
    NotAllowedError: "The passkey request was cancelled or timed out.",
    InvalidStateError: "This device already has a passkey for your account.",
    SecurityError: "Passkeys work only on this site's own address, over https or on localhost.",
    NotSupportedError: "This browser or device cannot make a passkey here.",
    AbortError: "The passkey request was cancelled or timed out.",
  };
  return err instanceof DOMException && words[err.name] ? t(words[err.name]) : null;
}
