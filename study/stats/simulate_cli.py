"""`readerstudy simulate OUT.csv [--preset uterine_sarcoma | --readers N --cases N ...] --seed S`.

Writes the reads table and, next to it, the AI outputs (``OUT_ai.csv``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _pair(text: str) -> tuple[float, float]:
    parts = [float(p) for p in text.split(",")]
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2 or not all(0 < p < 1 for p in parts):
        raise argparse.ArgumentTypeError("give one value or 'unaided,aided', each between 0 and 1")
    return parts[0], parts[1]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", type=Path, help="reads CSV to write")
    parser.add_argument("--preset", choices=("uterine_sarcoma",), help="a published study's design and rates")
    parser.add_argument("--readers", type=int, default=6)
    parser.add_argument("--cases", type=int, default=263)
    parser.add_argument("--prevalence", type=float, default=0.24, help="share of positive cases")
    parser.add_argument("--sens", type=_pair, default=(0.70, 0.85), help="reader sensitivity 'unaided,aided'")
    parser.add_argument("--spec", type=_pair, default=(0.90, 0.93), help="reader specificity 'unaided,aided'")
    parser.add_argument("--ai-sens", type=float, default=0.88)
    parser.add_argument("--ai-spec", type=float, default=0.94)
    parser.add_argument("--correlation", type=float, default=0.3, help="case-effect correlation between readers, 0-1")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ai-out", type=Path, help="AI outputs CSV (default: OUT_ai.csv)")


def run(args: argparse.Namespace) -> int:
    from study.stats.simulate import PRESETS, generic, simulate

    problems = []
    if args.readers < 1:
        problems.append("--readers: must be at least 1")
    if args.cases < 2:
        problems.append("--cases: must be at least 2")
    if not 0 < args.prevalence < 1:
        problems.append("--prevalence: must be between 0 and 1")
    if not 0 <= args.correlation < 1:
        problems.append("--correlation: must be in [0, 1)")
    if problems:
        for p in problems:
            print(p, file=sys.stderr)
        return 2
    if args.preset:
        spec = PRESETS[args.preset]()
    else:
        spec = generic(
            n_readers=args.readers,
            n_cases=args.cases,
            prevalence=args.prevalence,
            sensitivity=args.sens,
            specificity=args.spec,
            ai=(args.ai_sens, args.ai_spec),
            correlation=args.correlation,
        )
    reads, ai = simulate(spec, seed=args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    reads.to_csv(args.out, index=False)
    msg = f"wrote {len(reads)} reads to {args.out}"
    if ai is not None:
        ai_path = args.ai_out or args.out.with_name(args.out.stem + "_ai.csv")
        ai.to_csv(ai_path, index=False)
        msg += f" and AI outputs to {ai_path}"
    print(msg, file=sys.stderr)
    return 0
