"""Proving who you are. One package per sign-in method (`phone`, `password`; next `passkey`,
`totp`, `oauth`), each a `service.py` with its `router.py`; every method ends in `signin`.
`linking` adds a method to an account; `service`/`router` hold guest sessions, refresh and
logout. How to add a method: docs/contributing.md."""
