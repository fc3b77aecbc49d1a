"""Write the results table of ``bench/README.md`` from ``bench/results/latest.json``.

    python bench/report.py            # replace the table between the README's result markers
    python bench/report.py --print    # print the markdown instead
    python bench/report.py --json bench/results/quick.json --print

No number in the README is typed by hand: this script puts them there.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
START, END = "<!-- results:start -->", "<!-- results:end -->"


def fmt(x: float) -> str:
    if x != x or x in (float("inf"), float("-inf")):
        return str(x)
    if abs(x) >= 100:
        return f"{x:.0f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    return f"{x:.3g}" if abs(x) >= 1 else f"{x:.2f}"


def machine_lines(report: dict) -> list[str]:
    m = report["machine"]
    blas = m.get("numpy_blas", {})
    env = ", ".join(f"`{k}={v}`" for k, v in m["env"].items() if v is not None) or "none set"
    coretype = {k: m["env"].get(k) for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    dates = sorted(b.get("date", "")[:10] for b in report["benchmarks"].values())
    return [
        f"* **Machine:** {m['cpu_model']} ({', '.join(m.get('cpu_flags') or [])}), "
        f"{m['usable_cpus']} usable logical CPUs, {m.get('mem_total_gb')} GB; shared with other "
        f"jobs (1-min load average {m['load_average_1_5_15'][0]:.2f} at the start).",
        f"* **BLAS under NumPy {m['numpy']}:** {blas.get('internal_api')} {blas.get('version')}, "
        f"kernel **{blas.get('architecture')}**, threading {blas.get('threading_layer')}; "
        f"`OPENBLAS_CORETYPE`={coretype['OPENBLAS_CORETYPE']}, "
        f"`OPENBLAS_L2_SIZE`={coretype['OPENBLAS_L2_SIZE']}.",
        f"* **PyTorch:** {m.get('torch')} (CPU, BLAS {m.get('torch_blas')}, "
        f"{m.get('torch_cpu_capability')}); Python {m['python']}; environment: {env}.",
        f"* **Date:** {dates[0] if dates else '?'}"
        + (f" to {dates[-1]}" if dates and dates[-1] != dates[0] else "")
        + (" (**quick smoke run**: few rounds, not for quoting)" if report.get("quick") else "")
        + ".",
    ]


def table(report: dict) -> list[str]:
    rows = ["| benchmark | metric | median | range (min-max) | unit | target | result |",
            "|---|---|---:|---:|---|---|---|"]
    for name, b in report["benchmarks"].items():
        if "error" in b:
            rows.append(f"| {name} | **did not run: {b['error']}** | | | | | |")
            continue
        for mt in b["metrics"]:
            t = mt.get("target")
            target = f"{t['op']} {t['value']:g}" if t else ""
            verdict = {True: "pass", False: "**MISSED**", None: ""}[mt.get("passed")]
            rng = f"{fmt(mt['min'])}-{fmt(mt['max'])}" if mt["n"] > 1 else "(one value)"
            label = mt["label"].strip()
            rows.append(f"| {name} | {label} | {fmt(mt['median'])} | {rng} | {mt['unit']} | "
                        f"{target} | {verdict} |")
    rows.append("")
    rows.append("| benchmark | peak RSS of its process (MB) | wall time (s) | rounds |")
    rows.append("|---|---:|---:|---:|")
    for name, b in report["benchmarks"].items():
        rows.append(f"| {name} | {b.get('peak_rss_mb', float('nan')):.0f} | "
                    f"{b.get('wall_s', float('nan')):.0f} | {b.get('info', {}).get('rounds', '')} |")
    notes = [f"* {b['name']}: {mt['label'].strip()}: {mt['note']}"
             for b in report["benchmarks"].values() for mt in b.get("metrics", []) if mt.get("note")]
    return rows + ([""] + notes if notes else [])


def markdown(report: dict) -> str:
    return "\n".join(machine_lines(report) + [""] + table(report)) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, default=BENCH / "results" / "latest.json")
    parser.add_argument("--readme", type=Path, default=BENCH / "README.md")
    parser.add_argument("--print", action="store_true", help="print instead of editing the README")
    args = parser.parse_args(argv)
    text = markdown(json.loads(args.json.read_text()))
    if args.print:
        print(text)
        return 0
    readme = args.readme.read_text()
    if START not in readme or END not in readme:
        sys.exit(f"{args.readme} has no {START} ... {END} markers")
    new = re.sub(re.escape(START) + ".*?" + re.escape(END),
                 lambda _: f"{START}\n{text}{END}", readme, flags=re.S)
    args.readme.write_text(new)
    print(f"updated {args.readme}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
