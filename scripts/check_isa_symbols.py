#!/usr/bin/env python3
"""Checks that ISA-specific instructions stay inside the ISA kernel modules.

Generic standard-library specializations are emitted as weak symbols in every module, and the
linker may keep the copy compiled for AVX-512 (or AVX2), which then crashes on CPUs without it.
This disassembles a linked binary (libStalwart.so, the CLI or a test bundle) and fails when
- a function outside StalwartKernelsAVX512 uses zmm / opmask registers (EVEX-only), or
- a function outside both ISA modules uses any VEX/EVEX instruction (v-prefixed mnemonic),
- a function of StalwartKernelsAVX2 uses zmm / opmask registers.
Usage: check_isa_symbols.py BINARY [BINARY...]
"""
import re
import subprocess
import sys

AVX512_MOD = "StalwartKernelsAVX512"
AVX2_MOD = "StalwartKernelsAVX2"
# Mangled module names: s21StalwartKernelsAVX512..., s19StalwartKernelsAVX2...
def module_of(name):
    if "21" + AVX512_MOD in name:
        return "avx512"
    if "19" + AVX2_MOD in name:
        return "avx2"
    return None

EVEX = re.compile(r"%zmm\d+|%k[1-7]\b|\{1to\d+\}")
# Mnemonics starting with v that are not VEX vector instructions.
NOT_VEX = {"verr", "verw", "vmcall", "vmlaunch", "vmresume", "vmxoff", "vmxon", "vmread", "vmwrite",
           "vmptrld", "vmptrst", "vmclear", "vmfunc", "vmrun", "vmload", "vmsave", "vmmcall"}

def check(path):
    out = subprocess.run(["objdump", "-d", "--no-show-raw-insn", path], capture_output=True, text=True,
                         check=True).stdout
    bad = []
    func = None
    flagged = set()
    counts = {"avx512": 0, "avx2": 0}
    for line in out.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.+)>:$", line)
        if m:
            func = m.group(1)
            mod = module_of(func)
            if mod:
                counts[mod] += 1
            continue
        if func is None or func in flagged or "\t" not in line:
            continue
        parts = line.split("\t")
        if len(parts) < 2:
            continue
        insn = parts[-1].strip()
        mnem = insn.split(" ")[0] if insn else ""
        mod = module_of(func)
        if mod == "avx512":
            continue
        if EVEX.search(insn):
            bad.append((func, insn, "EVEX/zmm outside " + AVX512_MOD))
            flagged.add(func)
        elif mod is None and mnem.startswith("v") and mnem not in NOT_VEX:
            bad.append((func, insn, "VEX outside the ISA modules"))
            flagged.add(func)
    return bad, counts

def main():
    status = 0
    for path in sys.argv[1:]:
        bad, counts = check(path)
        print(f"{path}: {counts['avx512']} AVX-512 and {counts['avx2']} AVX2 kernel functions; "
              f"{len(bad)} violations")
        for func, insn, why in bad[:50]:
            print(f"  {why}: {func}: {insn}")
        if bad:
            status = 1
    return status

if __name__ == "__main__":
    sys.exit(main())
