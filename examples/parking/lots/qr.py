"""QR codes as inline SVG (segno), so pages need no image files or external services."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, title: str, scale: int = 5, fluid: bool = False) -> SafeString:
    """``fluid``: no fixed size (only a viewBox), so CSS sizes it to the screen."""
    svg = segno.make(data, error="m").svg_inline(
        scale=scale,
        dark="#111827",
        light="#ffffff",
        border=4 if fluid else 2,  # a UPI QR keeps the standard quiet zone for any camera
        title=title,
        svgclass="qr",
        omitsize=fluid,
    )
    return mark_safe(svg)  # segno escapes the title and emits only the path data
