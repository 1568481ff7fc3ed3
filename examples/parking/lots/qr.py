"""QR codes as inline SVG (segno), so pages need no image files or external services."""

from __future__ import annotations

import segno
from django.utils.safestring import SafeString, mark_safe


def qr_svg(data: str, *, title: str, scale: int = 5) -> SafeString:
    svg = segno.make(data, error="m").svg_inline(
        scale=scale, dark="#111827", light="#ffffff", border=2, title=title, svgclass="qr"
    )
    return mark_safe(svg)  # segno escapes the title and emits only the path data
