// AVX2+FMA microkernels live here (non-generic code only; see Package.swift).
