"""What a file is, judged by its bytes (magic numbers), never by its name or declared type."""

from __future__ import annotations

import codecs
import zipfile
from pathlib import Path, PurePosixPath

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
TEXT = "text/plain"
PNG = "image/png"
JPEG = "image/jpeg"
HTML = "text/html"
XML = "application/xml"
ZIP = "application/zip"
EXECUTABLE = "application/x-executable"
UNKNOWN = "application/octet-stream"

# Extensions whose type we can check; a `.pdf` must be a PDF. Other names are judged by content.
EXTENSION_TYPES = {
    ".pdf": PDF,
    ".docx": DOCX,
    ".txt": TEXT,
    ".png": PNG,
    ".jpg": JPEG,
    ".jpeg": JPEG,
}

_SIGNATURES = (
    (b"%PDF-", PDF),
    (b"\x89PNG\r\n\x1a\n", PNG),
    (b"\xff\xd8\xff", JPEG),
    (b"\x7fELF", EXECUTABLE),
)
# WHATWG MIME sniffing: markup a browser would render as HTML, after leading whitespace.
_HTML_TAGS = (
    b"<!doctype html",
    b"<html",
    b"<head",
    b"<script",
    b"<iframe",
    b"<h1",
    b"<div",
    b"<font",
    b"<table",
    b"<a",
    b"<style",
    b"<title",
    b"<b",
    b"<body",
    b"<br",
    b"<p",
    b"<!--",
    b"<svg",
)
_CHUNK = 64 * 1024


def detect(path: Path) -> str:
    """The content type of the file at `path` (blocking: run it in a thread)."""
    with path.open("rb") as fh:
        head = fh.read(1024)
    for magic, content_type in _SIGNATURES:
        if head.startswith(magic):
            return content_type
    if head.startswith(b"PK\x03\x04"):
        return _zip_type(path)
    if not _is_utf8_text(path):
        return UNKNOWN
    return _markup_type(head) or TEXT


def extension_type(filename: str) -> str | None:
    """The type a file's extension promises, when it is one we can check."""
    return EXTENSION_TYPES.get(PurePosixPath(filename).suffix.lower())


def _zip_type(path: Path) -> str:
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return UNKNOWN
    if "[Content_Types].xml" in names and any(n.startswith("word/") for n in names):
        return DOCX
    return ZIP


def _is_utf8_text(path: Path) -> bool:
    decoder = codecs.getincrementaldecoder("utf-8")()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            if b"\x00" in chunk:
                return False
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError:
                return False
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _markup_type(head: bytes) -> str | None:
    start = head.removeprefix(codecs.BOM_UTF8).lstrip(b" \t\r\n\x0c").lower()
    if start.startswith(b"<?xml"):
        return XML
    for tag in _HTML_TAGS:
        if start.startswith(tag):
            after = start[len(tag) : len(tag) + 1]
            if tag == b"<!--" or after in (b" ", b">", b"\t", b"\n", b"\r", b"\x0c", b"/"):
                return HTML
    return None
