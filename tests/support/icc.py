"""ICC colour profiles for tests and the benchmark: the kinds cameras and phones embed.

Pillow can only generate lcms's own sRGB profile and ships no wide-gamut one, and no profile
file ships in a package we depend on; so this builds matrix/TRC display profiles from the
published primaries (ICC.1 layout: a 128-byte header, a tag table, then the tags).
"""

from __future__ import annotations

import struct

import numpy as np

D50 = (0.9642, 1.0, 0.8249)  # the ICC connection space's white
D65_XY = (0.3127, 0.3290)
# Bradford cone response (ICC.1 Annex E), for adapting the D65 primaries to D50.
BRADFORD = np.array(
    [[0.8951, 0.2664, -0.1614], [-0.7502, 1.7135, 0.0367], [0.0389, -0.0685, 1.0296]]
)
# IEC 61966-2-1 transfer curve as an ICC parametric curve (function type 3: g, a, b, c, d).
SRGB_CURVE = (2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)

PRIMARIES = {  # (red, green, blue) chromaticities, all with a D65 white
    "srgb": ((0.64, 0.33), (0.30, 0.60), (0.15, 0.06)),
    "display-p3": ((0.680, 0.320), (0.265, 0.690), (0.150, 0.060)),
    "adobe-rgb": ((0.64, 0.33), (0.21, 0.71), (0.15, 0.06)),
}


def srgb_profile(description: str = "sRGB IEC61966-2.1", table: bool = False) -> bytes:
    """An sRGB profile as cameras write it: a parametric curve (v4), or a 1024-entry table (v2)."""
    return matrix_trc_profile(description, PRIMARIES["srgb"], SRGB_CURVE, table=table)


def display_p3_profile() -> bytes:
    """Display P3 (phones and recent cameras): sRGB's curve, wider primaries."""
    return matrix_trc_profile("Display P3", PRIMARIES["display-p3"], SRGB_CURVE)


def adobe_rgb_profile() -> bytes:
    """Adobe RGB (1998): gamma 563/256, a wider green."""
    return matrix_trc_profile("Adobe RGB (1998)", PRIMARIES["adobe-rgb"], (563 / 256,))


def matrix_trc_profile(
    description: str,
    primaries: tuple[tuple[float, float], ...],
    curve: tuple[float, ...],
    table: bool = False,
) -> bytes:
    """A display (mntr) RGB profile: colorants adapted to D50, one transfer curve for R, G, B."""
    colorants = _adapted_colorants(primaries)
    trc = _curve_table(curve) if table else _parametric_curve(curve)
    tags = [
        (b"desc", _text(description, table)),
        (b"cprt", _text("No copyright, test data", table)),
        (b"wtpt", _xyz(D50)),
        (b"rXYZ", _xyz(colorants[:, 0])),
        (b"gXYZ", _xyz(colorants[:, 1])),
        (b"bXYZ", _xyz(colorants[:, 2])),
        (b"rTRC", trc),
        (b"gTRC", trc),
        (b"bTRC", trc),
        (b"chad", b"sf32\0\0\0\0" + b"".join(_s15(v) for v in _bradford(_xyz_of(D65_XY)).flat)),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table_bytes, data = struct.pack(">I", len(tags)), b""
    for signature, payload in tags:
        table_bytes += signature + struct.pack(">II", offset + len(data), len(payload))
        data += payload + b"\0" * (-len(payload) % 4)
    size = offset + len(data)
    version = 0x02100000 if table else 0x04300000
    header = (
        struct.pack(">I4sI4s4s4s", size, b"", version, b"mntr", b"RGB ", b"XYZ ")
        + struct.pack(">6H", 2026, 1, 1, 0, 0, 0)
        + b"acsp"
        + b"\0" * 24
        + struct.pack(">I", 0)
        + b"".join(_s15(v) for v in D50)
        + b"\0" * 48
    )
    assert len(header) == 128
    return header + table_bytes + data


def _xyz_of(xy: tuple[float, float]) -> np.ndarray:
    x, y = xy
    return np.array([x / y, 1.0, (1 - x - y) / y])


def _bradford(source_white: np.ndarray) -> np.ndarray:
    """The chromatic adaptation from `source_white` to D50."""
    ratio = (BRADFORD @ np.array(D50)) / (BRADFORD @ source_white)
    return np.linalg.inv(BRADFORD) @ np.diag(ratio) @ BRADFORD


def _adapted_colorants(primaries: tuple[tuple[float, float], ...]) -> np.ndarray:
    """Columns: the XYZ (D50) of full red, green and blue."""
    basis = np.stack([_xyz_of(xy) for xy in primaries], axis=1)
    scale = np.linalg.solve(basis, _xyz_of(D65_XY))
    return _bradford(_xyz_of(D65_XY)) @ (basis * scale)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)


def _parametric_curve(curve: tuple[float, ...]) -> bytes:
    function = {1: 0, 5: 3}[len(curve)]
    return b"para\0\0\0\0" + struct.pack(">HH", function, 0) + b"".join(_s15(v) for v in curve)


def _curve_table(curve: tuple[float, ...]) -> bytes:
    gamma, a, b, c, d = curve
    x = np.linspace(0, 1, 1024)
    y = np.where(x >= d, (a * x + b) ** gamma, c * x)
    values = np.round(y * 65535).astype(">u2")
    return b"curv\0\0\0\0" + struct.pack(">I", len(values)) + values.tobytes()


def _text(text: str, version2: bool) -> bytes:
    if version2:  # textDescriptionType: ASCII, then empty Unicode and ScriptCode parts
        ascii_text = text.encode("ascii") + b"\0"
        return b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + b"\0" * 78
    utf16 = text.encode("utf-16-be")
    return b"mluc\0\0\0\0" + struct.pack(">II2s2sII", 1, 12, b"en", b"US", len(utf16), 28) + utf16
