"""Numbers in words a reader of the report understands: n with every value, reasons instead of NaN.

Shared by the PDF and the admin dashboard so both say the same thing.
"""

from __future__ import annotations

import math

FOM_NAMES = {"auc": "AUC", "sensitivity": "Sensitivity", "specificity": "Specificity"}


def finite(v) -> bool:
    return v is not None and isinstance(v, (int, float)) and math.isfinite(v)


def plural(n: int, word: str, many: str | None = None) -> str:
    """'1 reader', '3 readers' (``many`` for irregular plurals: 'case(s)' never appears)."""
    return f"{n} {word if n == 1 else (many or word + 's')}"


def pct(v, ci=None, reason: str | None = None) -> str:
    """'88.2 (80.1-93.0)' or 'not estimable (reason)'."""
    if not finite(v):
        return f"not estimable ({reason})" if reason else "not estimable"
    if ci and finite(ci[0]) and finite(ci[1]):
        return f"{100 * v:.1f} ({100 * ci[0]:.1f}-{100 * ci[1]:.1f})"
    return f"{100 * v:.1f}"


def num(v, digits: int = 3, reason: str | None = None, signed: bool = False) -> str:
    if not finite(v):
        return f"not estimable ({reason})" if reason else "not estimable"
    return f"{v:+.{digits}f}" if signed else f"{v:.{digits}f}"


def p_value(p) -> str:
    if not finite(p):
        return "p not estimable"
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def threshold_text(thr: dict | None) -> str:
    if not thr:
        return "-"
    if thr.get("value") is None:
        return thr["source"]
    return f"rating >= {thr['value']:g} ({thr['source']})"


def mrmc_reason(res: dict) -> str:
    """Why an MRMC block has no paired comparison, in words about the study."""
    notes = res.get("notes") or []
    for n in notes:
        if "nested" in n or "needs at least two readers" in n:
            return n
    if res.get("n_readers", 0) < 2:
        return "fewer than two readers read every modality"
    vc = res.get("variance_components") or {}
    if finite(vc.get("ms_tr")) and vc["ms_tr"] == 0:
        return "every reader changed by exactly the same amount between modalities, so reader variability is zero"
    return "the readers' results do not vary enough to estimate the error"


def mrmc_n(res: dict) -> str:
    return (
        f"{plural(res.get('n_readers', 0), 'reader')}, {plural(res.get('n_cases', 0), 'case')} "
        f"({res.get('n_positive', 0)} positive, {res.get('n_negative', 0)} negative)"
    )


def mrmc_line(res: dict) -> str:
    """One sentence per figure of merit: estimates, difference with CI, F test, and n."""
    name = FOM_NAMES.get(res.get("fom", ""), res.get("fom", ""))
    est = ", ".join(f"{m} {num(v)}" for m, v in res["estimates"].items())
    if not res.get("pairwise"):
        return f"{name}: {est or 'no modality with enough reads'}; no paired comparison: {mrmc_reason(res)} [{mrmc_n(res)}]."
    p = res["pairwise"][0]
    if not finite(p["se"]) or not finite(res["f"]):
        return (
            f"{name}: {est}; {p['comparison']} = {num(p['difference'], signed=True)}, "
            f"test not estimable ({mrmc_reason(res)}) [{mrmc_n(res)}]."
        )
    pairs = (
        "; ".join(
            f"{q['comparison']} = {q['difference']:+.3f} (95% CI {q['ci95'][0]:+.3f} to {q['ci95'][1]:+.3f}, "
            f"{p_value(q['p'])})"
            for q in res["pairwise"]
        )
        if len(res["pairwise"]) > 1
        else ""
    )
    lo, hi = p["ci95"]
    first = (
        f"{p['comparison']} = {p['difference']:+.3f} (95% CI {lo:+.3f} to {hi:+.3f}), "
        if not pairs
        else f"pairwise {pairs}; overall "
    )
    return (
        f"{name}: {est}; {first}"
        f"F({res['df1']}, {res['df2']:.1f}) = {res['f']:.2f}, {p_value(res['p'])} [{mrmc_n(res)}; "
        f"{res.get('design', 'fully crossed')} design, {res.get('covariance', '')} covariance]."
    )
