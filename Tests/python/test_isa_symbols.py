"""One binary for every x86-64 CPU: AVX-512 instructions may appear only in the AVX-512 kernel
module and VEX instructions only in the two ISA kernel modules (scripts/check_isa_symbols.py
disassembles the shipped library with objdump)."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("objdump") is None, reason="objdump (binutils) not installed")
def test_isa_instructions_stay_in_their_modules():
    import stalwart
    lib = stalwart.library_path
    binaries = [lib]
    cli = os.environ.get("STALWART_CLI")
    if cli and os.path.exists(cli):
        binaries.append(cli)
    proc = subprocess.run([sys.executable, str(REPO / "scripts" / "check_isa_symbols.py"), *binaries],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
