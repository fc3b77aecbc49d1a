"""Print the CPU features NumPy found beyond its compiled-in baseline, space-separated.

`NPY_DISABLE_CPU_FEATURES="$(python tools/simd_baseline.py)"` then switches NumPy's SIMD
dispatch down to the baseline (SSE3 on x86-64, NEON/ASIMD on ARM64): `exp`, `log`, `pow`,
`sin`/`cos` take other code paths whose results differ from the dispatched ones in the last
bit. `make nbval-baseline-simd` and `make unit-baseline-simd` run the notebooks and the unit
tests that way, to check that what they print and compare does not depend on those bits.
The list is computed here, from the NumPy that runs, so that it is right on any CPU (an empty
line where NumPy dispatches nothing beyond its baseline; the perturbed run is then the plain one).
"""

try:  # NumPy >= 2.0
    from numpy._core._multiarray_umath import __cpu_baseline__, __cpu_features__
except ImportError:  # NumPy 1.x
    from numpy.core._multiarray_umath import __cpu_baseline__, __cpu_features__

if __name__ == "__main__":
    baseline = set(__cpu_baseline__)
    print(" ".join(name for name, found in __cpu_features__.items()
                   if found and name not in baseline))
