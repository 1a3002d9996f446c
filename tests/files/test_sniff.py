"""Content detection and file-name cleaning, without HTTP."""

from pathlib import Path

import pytest

from keyturn.files import sniff
from keyturn.files.receive import clean_filename
from keyturn.files.router import attachment
from tests.files import samples


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (samples.PDF, sniff.PDF),
        (samples.DOCX, sniff.DOCX),
        (samples.PLAIN_ZIP, sniff.ZIP),
        (b"PK\x03\x04 not really a zip", sniff.UNKNOWN),
        (samples.PNG, sniff.PNG),
        (samples.JPEG, sniff.JPEG),
        (samples.TEXT, sniff.TEXT),
        (b"\xef\xbb\xbfBOM text", sniff.TEXT),
        ("é".encode() * 40000, sniff.TEXT),  # multi-byte characters across read chunks
        (b"caf\xc3", sniff.UNKNOWN),  # cut inside a UTF-8 sequence
        (b"text with a \x00 NUL", sniff.UNKNOWN),
        (samples.ELF, sniff.EXECUTABLE),
        (samples.HTML, sniff.HTML),
        (b"\n<SCRIPT>alert(1)</SCRIPT>", sniff.HTML),
        (b"<?xml version='1.0'?><svg/>", sniff.XML),
        (b"<b>bold</b> claims", sniff.HTML),
        (b"<benefits> are listed below", sniff.TEXT),
    ],
)
def test_content_type_comes_from_the_bytes(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert sniff.detect(path) == expected


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\me\\cv.pdf", "cv.pdf"),
        ("evil\r\nname.pdf", "evilname.pdf"),
        ("  ..  ", "file"),
        ("", "file"),
        ("x" * 300 + ".pdf", "x" * 251 + ".pdf"),
    ],
)
def test_file_names_are_reduced_to_a_safe_last_segment(raw: str, clean: str) -> None:
    assert clean_filename(raw) == clean


def test_attachment_header_cannot_be_broken_out_of() -> None:
    header = attachment('a"; filename="evil.html')
    assert header.startswith('attachment; filename="a__ filename=_evil.html"; ')
    assert header.endswith("filename*=UTF-8''a%22%3B%20filename%3D%22evil.html")
