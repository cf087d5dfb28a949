// AVX-512 microkernels live here (non-generic code only; see Package.swift).
