"""Transferability: few-shot linear evaluation, linear probes, robustness-transfer correlations.
Filled in by issue 9."""

from __future__ import annotations
