"""`keyturn keys rotate` and `keyturn keys list`, as an operator runs them."""

import json
import os
import subprocess

from tests.harness.server import KEYTURN


def keyturn(*args: str, data_dir) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KEYTURN_DATA_DIR": str(data_dir)}
    return subprocess.run(
        [str(KEYTURN), *args], env=env, capture_output=True, text=True, timeout=60
    )


def test_rotate_adds_a_signing_key_and_list_shows_fingerprints_only(tmp_path) -> None:
    missing = keyturn("keys", "list", data_dir=tmp_path)
    assert missing.returncode == 2 and "keys rotate" in missing.stderr

    first = keyturn("keys", "rotate", "--overlap", "0", data_dir=tmp_path)
    second = keyturn("keys", "rotate", "--overlap", "0", data_dir=tmp_path)
    assert first.returncode == second.returncode == 0
    listed = keyturn("keys", "list", data_dir=tmp_path)
    lines = listed.stdout.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("* ") and "retires=None" in lines[0]  # the new key signs
    assert "retires=20" in lines[1]  # the old one verifies until it retires

    keyring = json.loads((tmp_path / "signing-keys.json").read_text())
    assert oct((tmp_path / "signing-keys.json").stat().st_mode & 0o777) == "0o600"
    for key in keyring["keys"]:
        body = "".join(key["private_key"].splitlines()[1:-1])
        assert body[:16] not in listed.stdout
