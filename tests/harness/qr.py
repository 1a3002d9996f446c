"""Reads a QR code served as SVG, as a phone's camera would: the SVG's path is drawn into a
bitmap and decoded by zxing-cpp (a QR reader that knows nothing of how we drew it)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

import zxingcpp

_SVG = "{http://www.w3.org/2000/svg}"
_COMMAND = re.compile(r"([MmHhVv])\s*(-?[\d.]+)(?:[\s,]+(-?[\d.]+))?")
PIXELS_PER_MODULE = 4


def decode_svg(svg: str) -> list[str]:
    """The texts of every QR code in `svg` (a segno-style path of horizontal strokes)."""
    root = ET.fromstring(svg)  # noqa: S314 (our own server's SVG, in a test)
    width, height = (int(float(root.attrib[name])) for name in ("width", "height"))
    path = root.find(f"{_SVG}path")
    assert path is not None, "no path in the SVG"
    scale = float(re.fullmatch(r"scale\(([\d.]+)\)", path.attrib.get("transform", "scale(1)"))[1])
    columns, rows = round(width / scale), round(height / scale)
    dark = [[False] * columns for _ in range(rows)]
    x = y = 0.0
    for command, first, second in _COMMAND.findall(path.attrib["d"]):
        if command in "Mm":
            dx, dy = float(first), float(second)
            x, y = (dx, dy) if command == "M" else (x + dx, y + dy)
        elif command == "h":
            length = float(first)
            for column in range(round(x), round(x + length)):
                dark[int(y)][column] = True
            x += length
        else:
            raise AssertionError(f"unexpected path command {command!r}")
    pixels = bytearray()
    for row in dark:
        line = bytes(0 if cell else 255 for cell in row for _ in range(PIXELS_PER_MODULE))
        pixels += line * PIXELS_PER_MODULE
    image = memoryview(bytes(pixels)).cast(
        "B", (rows * PIXELS_PER_MODULE, columns * PIXELS_PER_MODULE)
    )
    return [barcode.text for barcode in zxingcpp.read_barcodes(image)]
