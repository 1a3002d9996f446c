"""The WebAuthn checks, over py_webauthn, HTTP- and database-free: build the options a browser
or phone is given, and verify what it answers. Each common refusal has its own error (origin,
RP id, user verification) so a developer wiring up an app sees what is wrong; anything else
that does not verify is `PasskeyInvalid`. Challenges are the caller's (`challenges`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import (
    base64url_to_bytes,
    bytes_to_base64url,
    options_to_json_dict,
    parse_attestation_object,
    parse_authenticator_data,
    parse_client_data_json,
)
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticatorDataFlags,
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from keyturn.config import PasskeySettings
from keyturn.errors import BadRequest


class PasskeyRefused(BadRequest):
    """A passkey answer was refused; the subclass's code says why."""

    code = "passkey.refused"


class PasskeyInvalid(PasskeyRefused):
    """The passkey answer is malformed or its signature or attestation does not verify."""

    code = "passkey.invalid"


class PasskeyOriginRefused(PasskeyRefused):
    """The ceremony ran on a web or app origin this deployment does not allow."""

    code = "passkey.origin_not_allowed"


class PasskeyRpIdMismatch(PasskeyRefused):
    """The authenticator signed for another relying party id than ours."""

    code = "passkey.rp_id_mismatch"


class PasskeyUserNotVerified(PasskeyRefused):
    """The authenticator did not verify the user (PIN, biometrics); passkeys require it."""

    code = "passkey.user_verification_required"


@dataclass(frozen=True)
class ClientData:
    """What the browser or phone says about the ceremony (`clientDataJSON`)."""

    challenge: bytes
    origin: str
    cross_origin: bool  # made inside a frame of another site


@dataclass(frozen=True)
class NewCredential:
    credential_id: str  # base64url
    public_key: bytes
    sign_count: int
    aaguid: str
    backup_eligible: bool
    backed_up: bool
    transports: list[str]


@dataclass(frozen=True)
class Assertion:
    sign_count: int
    backup_eligible: bool
    backed_up: bool
    # "hwk" for a device-bound key, "swk" for a synced one (RFC 8176).
    key_kind: str


def challenge_hash(challenge: bytes) -> str:
    return hashlib.sha256(challenge).hexdigest()


def registration_options(
    settings: PasskeySettings,
    *,
    challenge: bytes,
    user_handle: bytes,
    user_name: str,
    display_name: str,
    exclude: list[str],
) -> dict[str, Any]:
    """`PublicKeyCredentialCreationOptionsJSON`: a discoverable credential, user verification
    required, no attestation, none of the user's existing passkeys again."""
    options = generate_registration_options(
        rp_id=settings.rp_id,
        rp_name=settings.rp_name,
        user_id=user_handle,
        user_name=user_name,
        user_display_name=display_name,
        challenge=challenge,
        timeout=_timeout_ms(settings),
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=[
            PublicKeyCredentialDescriptor(id=base64url_to_bytes(c)) for c in exclude
        ],
    )
    return options_to_json_dict(options)


def authentication_options(
    settings: PasskeySettings, *, challenge: bytes, allow: list[tuple[str, list[str]]]
) -> dict[str, Any]:
    """`PublicKeyCredentialRequestOptionsJSON`. An empty `allow` lets the browser or phone
    offer any passkey it holds for us (sign-in, conditional UI); re-authentication lists the
    caller's own."""
    options = generate_authentication_options(
        rp_id=settings.rp_id,
        challenge=challenge,
        timeout=_timeout_ms(settings),
        allow_credentials=[
            PublicKeyCredentialDescriptor(
                id=base64url_to_bytes(credential_id), transports=_transports(transports)
            )
            for credential_id, transports in allow
        ],
        user_verification=UserVerificationRequirement.REQUIRED,
    )
    return options_to_json_dict(options)


def client_data(credential: dict[str, Any], kind: str) -> ClientData:
    """The challenge and origin the answer was made for (`webauthn.create` or `.get`)."""
    try:
        raw = base64url_to_bytes(credential["response"]["clientDataJSON"])
        parsed = parse_client_data_json(raw)
    except Exception:  # a parser of hostile input: anything it raises is a malformed answer
        raise PasskeyInvalid("The passkey answer's client data is malformed.") from None
    if parsed.type != kind or not isinstance(parsed.origin, str):
        raise PasskeyInvalid(f"Expected a {kind} answer.")
    return ClientData(
        challenge=parsed.challenge, origin=parsed.origin, cross_origin=bool(parsed.cross_origin)
    )


def check_origin(settings: PasskeySettings, client: ClientData) -> None:
    """Our pages and apps only, never framed by another site (our pages refuse framing)."""
    if client.cross_origin or not settings.allows_origin(client.origin):
        raise PasskeyOriginRefused(
            "This passkey answer comes from a site or app that may not use our passkeys."
        )


def verify_registration(
    settings: PasskeySettings, credential: dict[str, Any], *, client: ClientData
) -> NewCredential:
    try:
        attestation = parse_attestation_object(
            base64url_to_bytes(credential["response"]["attestationObject"])
        )
    except Exception:  # hostile input, see client_data
        raise PasskeyInvalid("The passkey's attestation object is malformed.") from None
    _check_flags(settings, attestation.auth_data.rp_id_hash, attestation.auth_data.flags)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=client.challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=client.origin,
            require_user_verification=True,
        )
    except Exception:  # hostile input, see client_data
        raise PasskeyInvalid("The new passkey could not be verified.") from None
    transports = credential["response"].get("transports") or []
    return NewCredential(
        credential_id=bytes_to_base64url(verified.credential_id),
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        aaguid=verified.aaguid,
        backup_eligible=attestation.auth_data.flags.be,
        backed_up=verified.credential_backed_up,
        transports=[t for t in transports if isinstance(t, str)][:8],
    )


def verify_assertion(
    settings: PasskeySettings,
    credential: dict[str, Any],
    *,
    client: ClientData,
    public_key: bytes,
) -> Assertion:
    """Signature, RP id, user presence and verification. The counter is the caller's rule
    (`passkeys.service`): py_webauthn is given 0 so it never decides it."""
    try:
        auth_data = parse_authenticator_data(
            base64url_to_bytes(credential["response"]["authenticatorData"])
        )
    except Exception:  # hostile input, see client_data
        raise PasskeyInvalid("The passkey's authenticator data is malformed.") from None
    _check_flags(settings, auth_data.rp_id_hash, auth_data.flags)
    try:
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=client.challenge,
            expected_rp_id=settings.rp_id,
            expected_origin=client.origin,
            credential_public_key=public_key,
            credential_current_sign_count=0,
            require_user_verification=True,
        )
    except Exception:  # hostile input, see client_data
        raise PasskeyInvalid("The passkey's signature does not verify.") from None
    return Assertion(
        sign_count=verified.new_sign_count,
        backup_eligible=auth_data.flags.be,
        backed_up=verified.credential_backed_up,
        key_kind="swk" if auth_data.flags.be else "hwk",
    )


def user_handle_of(credential: dict[str, Any]) -> str | None:
    """The `userHandle` a discoverable credential returns (base64url), if any."""
    handle = credential["response"].get("userHandle")
    return handle if isinstance(handle, str) and handle else None


def _check_flags(
    settings: PasskeySettings, rp_id_hash: bytes, flags: AuthenticatorDataFlags
) -> None:
    if rp_id_hash != hashlib.sha256(settings.rp_id.encode()).digest():
        raise PasskeyRpIdMismatch(
            f"This passkey was made for another site, not {settings.rp_id!r}."
        )
    if not flags.uv:
        raise PasskeyUserNotVerified(
            "Your device did not verify you (PIN, fingerprint or face); passkeys here need it."
        )


def _timeout_ms(settings: PasskeySettings) -> int:
    return int(settings.challenge_ttl.total_seconds() * 1000)


def _transports(values: list[str]) -> list[AuthenticatorTransport] | None:
    known = {t.value for t in AuthenticatorTransport}
    return [AuthenticatorTransport(v) for v in values if v in known] or None
