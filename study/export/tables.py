"""Result dict -> tidy DataFrames for metrics.csv / metrics.xlsx and the report tables."""

from __future__ import annotations

import math

import pandas as pd

RATES = ("sensitivity", "specificity", "accuracy", "ss_avg", "ppv", "npv")
PAPER_METRICS = (
    ("accuracy", "Accuracy"),
    ("ss_avg", "SS-Avg"),
    ("sensitivity", "Sensitivity"),
    ("specificity", "Specificity"),
)


def _flatten(row: dict) -> dict:
    out = {}
    for k, v in row.items():
        if isinstance(v, (list, tuple)) and len(v) == 2 and k.endswith("_ci95"):
            out[f"{k[:-5]}_ci95_lower"], out[f"{k[:-5]}_ci95_upper"] = v
        elif isinstance(v, dict):  # e.g. not_estimable: {"sensitivity": "no positive case read"}
            out[k] = "; ".join(f"{a}: {b}" for a, b in v.items())
        else:
            out[k] = v
    return out


def readers_frame(result: dict) -> pd.DataFrame:
    """One row per reader x modality (and the AI), CIs as lower/upper columns."""
    return pd.DataFrame([_flatten(r) for r in result["readers"]])


def groups_frame(result: dict) -> pd.DataFrame:
    """One row per group x modality: reader means, summed counts, pooled CIs."""
    return pd.DataFrame([_flatten(r) for r in result["groups"]])


def mrmc_frame(result: dict) -> pd.DataFrame:
    """One row per figure of merit x comparison: OR-Hillis RRRC plus the fixed-factor variants."""
    rows = []
    for fom, res in result.get("mrmc", {}).items():
        base = {
            "fom": fom,
            "design": res.get("design"),
            "covariance": res.get("covariance"),
            "n_cases": res.get("n_cases"),
            "n_positive": res.get("n_positive"),
            "n_negative": res.get("n_negative"),
            "n_readers": len(res["readers"]),
            "readers_left_out": "; ".join(f"{x['reader']} ({x['reason']})" for x in res.get("left_out", [])),
            "notes": " ".join(res.get("notes", [])),
        }
        for m, est in res["estimates"].items():
            base[f"estimate[{m}]"] = est
            sm = res["single_modality"].get(m, {"ci95": [None, None]})
            base[f"ci95_lower[{m}]"], base[f"ci95_upper[{m}]"] = sm["ci95"]
        for pair in res["pairwise"] or [{}]:
            row = dict(base)
            if pair:
                row.update(
                    comparison=pair["comparison"],
                    difference=pair["difference"],
                    se=pair["se"],
                    df=pair["df"],
                    ci95_lower=pair["ci95"][0],
                    ci95_upper=pair["ci95"][1],
                    p=pair["p"],
                    f=res["f"],
                    df1=res["df1"],
                    df2=res["df2"],
                    p_global=res["p"],
                    p_fixed_readers=res["fixed_readers"]["p"],
                    p_fixed_cases=res["fixed_cases"]["p"],
                )
            row.update({f"vc_{k}": v for k, v in res["variance_components"].items()})
            rows.append(row)
    return pd.DataFrame(rows)


def mcnemar_frame(result: dict) -> pd.DataFrame:
    return pd.DataFrame(result.get("mcnemar", []))


def paper_table(result: dict, modalities: list[str] | None = None) -> tuple[list[str], list[str], list[list[str]]]:
    """The source paper's layout: rows = groups (+ AI), columns = metric x modality.

    Cells are percentages with the 95% CI on a second line and the n (readers,
    reads) on a third; a value that cannot be estimated says why.  The AI reads
    each case once (standalone), so its value is shown under every modality.
    Returns (column labels, row labels, cell text).
    """
    mods = modalities or result["modalities"]
    columns = [f"{label}\n{m}" for _, label in PAPER_METRICS for m in mods]
    by_key = {(g["group"], g["modality"]): g for g in result["groups"]}
    rows, cells = [], []
    for group in result["groups_order"]:
        line = []
        for key, _ in PAPER_METRICS:
            for m in mods:
                g = by_key.get((group, m)) or by_key.get((group, "standalone"))
                line.append(_pct(g, key) if g else "no reads yet")
        rows.append(_plural(group))
        cells.append(line)
    return columns, rows, cells


def _pct(row: dict, key: str) -> str:
    v = row.get(key)
    ci = row.get(f"{key}_ci95") or [None, None]
    n = row.get("n_reads", row.get("n"))
    readers = row.get("n_readers", 1)
    n_text = f"{readers} reader{'s' if readers != 1 else ''}, n={n}" if row.get("group") != "AI" else f"n={n}"
    if v is None or math.isnan(v):
        why = (row.get("not_estimable") or {}).get(key, "")
        return f"not estimable\n({why})\n{n_text}" if why else f"not estimable\n{n_text}"
    if ci[0] is None or ci[0] != ci[0]:
        return f"{100 * v:.1f}\n{n_text}"
    return f"{100 * v:.1f}\n({100 * ci[0]:.1f}-{100 * ci[1]:.1f})\n{n_text}"


def _plural(group: str) -> str:
    if group in ("AI", "all", "ungrouped") or group.endswith("s"):
        return "AI alone" if group == "AI" else group.capitalize()
    return group.capitalize() + "s"
