"""Small files of each kind, made in memory."""

import io
import zipfile

from tests.factories import PDF_BYTES

PDF = PDF_BYTES
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TEXT = "Résumé: ten years of Python.\n".encode()
ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 56
HTML = b"  <!DOCTYPE html><html><body><script>alert(document.cookie)</script></body></html>"


def zip_bytes(names: list[str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in names:
            archive.writestr(name, "<xml/>")
    return buffer.getvalue()


DOCX = zip_bytes(["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
PLAIN_ZIP = zip_bytes(["notes/readme.txt"])
