"""Run every benchmark in this folder, one process each, and print their reports.

`make bench` calls this with a throwaway PostgreSQL and Redis in the environment. Each
`bench_*.py` prints its own table of figures measured against a baseline in the same run:
these machines are shared and noisy, so ratios are what we compare, never absolute times.
A name on the command line runs only the benchmarks whose file names contain it.
"""

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    wanted = argv[1:]
    scripts = sorted(HERE.glob("bench_*.py"))
    if wanted:
        scripts = [s for s in scripts if any(w in s.stem for w in wanted)]
    if not scripts:
        print("no benchmark matched", wanted)
        return 2
    failed = []
    for script in scripts:
        print(f"\n=== {script.stem} ===", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, check=False)
        print(f"--- {script.stem}: {time.perf_counter() - started:.1f} s", flush=True)
        if result.returncode != 0:
            failed.append(script.stem)
    if failed:
        print("\nfailed:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
