"""SI-Score: objects pasted onto backgrounds while one factor (size, location, rotation) is
swept (Djolonga et al., CVPR 2021). Filled in by issue 8."""

from __future__ import annotations
