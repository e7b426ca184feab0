"""Report figures with matplotlib's object API (no pyplot state, Agg-safe, headless).

Each ``draw_*`` function draws into a rectangle of a given Figure (the PDF's
A4 portrait pages, :mod:`study.export.pdf`), so pages can hold a figure and
text together; ``*_figure`` wrappers return a stand-alone Figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from study.export.wording import FOM_NAMES, finite, p_value
from study.stats import auc as auc_mod

A4_PORTRAIT = (8.27, 11.69)
AI_COLOR = "#d62728"


def _sub(rect, x, y, w, h):
    """A sub-rectangle of ``rect`` given in fractions of it."""
    X, Y, W, H = rect
    return (X + x * W, Y + y * H, w * W, h * H)


def mcnemar_lines(result: dict) -> list[str]:
    mc = result.get("mcnemar") or []
    if not mc:
        return []
    head = (
        f"McNemar (McNemar 1947) per reader: cases correct only in {mc[0]['modality_a']} / only in "
        f"{mc[0]['modality_b']}, n = cases read both ways:"
    )
    parts = [f"{m['reader']} {m['b']}/{m['c']} (n {m['n']}) {p_value(m['p'])}" for m in mc]
    rows = [head]
    for i in range(0, len(parts), 4):
        rows.append("    " + ";  ".join(parts[i : i + 4]))
    return rows


def sample_size_lines(result: dict) -> list[str]:
    ss = result.get("sample_size")
    if not ss or not ss["table"]:
        return []
    cells = ", ".join(
        f"{int(r['readers'])} readers x {int(r['cases'])} cases"
        if r["cases"]
        else f"{int(r['readers'])} readers: not reachable"
        for r in ss["table"]
    )
    return [
        f"Sample size (Hillis, Obuchowski & Berbaum 2011) for {int(100 * ss['target_power'])}% power at |difference in AUC| = "
        f"{ss['effect']:.3f}, alpha {ss['alpha']}, from this pilot of {ss['pilot_cases']} cases: " + cells,
    ]


def draw_roc_page(fig: Figure, rect, reads: pd.DataFrame, result: dict, ai: pd.DataFrame | None = None) -> None:
    """Empirical ROC curves per reader and modality, operating points as arrows, AI curve; zoom below; legend."""
    ax = fig.add_axes(_sub(rect, 0.07, 0.42, 0.4, 0.54))
    zoom = fig.add_axes(_sub(rect, 0.57, 0.42, 0.4, 0.54))
    mods = result["modalities"]
    for a in (ax, zoom):
        _draw_roc(a, reads, result, ai, mods)
    pts = [
        (1 - r["specificity"], r["sensitivity"])
        for r in result["readers"]
        if finite(r["sensitivity"]) and finite(r["specificity"])
    ]
    if pts:
        xs, ys = zip(*pts)
        y_lo = max(0.0, min(ys) - 0.08)
        zoom.set_xlim(max(0.0, min(xs) - 0.03), min(1.0, max(xs) + 0.08))
        zoom.set_ylim(y_lo, min(1.0, max(ys) + 0.05) + 0.01)
        zoom.set_aspect("auto")
        zoom.set_title("Operating points (zoomed)", fontsize=9)
        x0, x1 = zoom.get_xlim()
        ax.add_patch(Rectangle((x0, y_lo), x1 - x0, zoom.get_ylim()[1] - y_lo, fill=False, ls=":", color="0.4"))
    ax.set_title(
        "ROC, " + (f"{mods[0]} -> {mods[1]}" if len(mods) > 1 else mods[0]) + " (arrows per reader)", fontsize=9
    )
    for a in (ax, zoom):
        a.tick_params(labelsize=7)
        a.xaxis.label.set_size(8)
        a.yaxis.label.set_size(8)
    _roc_legend(fig, _sub(rect, 0.0, 0.0, 1.0, 0.3), result, ai, mods)


def roc_figure(reads: pd.DataFrame, result: dict, ai: pd.DataFrame | None = None) -> Figure:
    fig = Figure(figsize=A4_PORTRAIT)
    draw_roc_page(fig, (0.06, 0.05, 0.9, 0.9), reads, result, ai)
    return fig


def _draw_roc(ax, reads: pd.DataFrame, result: dict, ai: pd.DataFrame | None, mods: list[str]) -> None:
    styles = ["--", "-", ":", "-."]
    readers = result["readers_order"]
    palette = [f"C{i % 10}" for i in range(len(readers))]
    for j, reader in enumerate(readers):
        for k, m in enumerate(mods):
            sub = reads[(reads["reader"] == reader) & (reads["modality"] == m)]
            if sub["truth"].nunique() < 2:
                continue
            fpf, tpf = auc_mod.roc_points(sub["truth"].to_numpy(), sub["rating"].to_numpy())
            ax.plot(fpf, tpf, styles[k % len(styles)], color=palette[j], lw=0.8, alpha=0.45)
    points = {(r["reader"], r["modality"]): (1 - r["specificity"], r["sensitivity"]) for r in result["readers"]}
    for j, reader in enumerate(readers):
        a = points.get((reader, mods[0]))
        b = points.get((reader, mods[1])) if len(mods) > 1 else None
        if a is not None:
            ax.plot(*a, "o", color=palette[j], ms=5, mfc="white")
        if a is not None and b is not None:
            ax.annotate("", xy=b, xytext=a, arrowprops={"arrowstyle": "->", "color": palette[j], "lw": 1.5})
            ax.plot(*b, "o", color=palette[j], ms=5)
    if ai is not None and len(ai):
        truth = reads.drop_duplicates("case").set_index("case")["truth"]
        sub = ai[ai["case"].isin(truth.index)]
        if truth.reindex(sub["case"]).nunique() == 2:
            fpf, tpf = auc_mod.roc_points(truth.reindex(sub["case"]).to_numpy(), sub["rating"].to_numpy())
            ax.plot(fpf, tpf, color=AI_COLOR, lw=2.2)
        p = points.get(("AI", "standalone"))
        if p is not None:
            ax.plot(*p, "*", color=AI_COLOR, ms=14)
    ax.plot([0, 1], [0, 1], color="0.8", lw=0.8)
    ax.set_xlim(-0.01, 1.01)
    ax.set_ylim(-0.01, 1.01)
    ax.set_aspect("equal")
    ax.set_xlabel("1 - specificity (false positive fraction)")
    ax.set_ylabel("Sensitivity (true positive fraction)")


def _roc_legend(fig: Figure, rect, result: dict, ai: pd.DataFrame | None, mods: list[str]) -> None:
    """Legend in its own column beside the plots so it never covers a curve."""
    readers = result["readers_order"]
    palette = [f"C{i % 10}" for i in range(len(readers))]
    styles = ["--", "-", ":", "-."]
    leg = fig.add_axes(rect)
    leg.axis("off")
    handles, labels = [], []
    for j, reader in enumerate(readers):
        (h,) = leg.plot([], [], "o-", color=palette[j])
        handles.append(h)
        by = {r["modality"]: r.get("auc") for r in result["readers"] if r["reader"] == reader}
        aucs = ", ".join(f"{m} {by[m]:.3f}" for m in mods if m in by and finite(by[m]))
        labels.append(f"{reader}" + (f" (AUC {aucs})" if aucs else ""))
    for k, m in enumerate(mods):
        (h,) = leg.plot([], [], styles[k % len(styles)], color="0.3")
        handles.append(h)
        labels.append(f"empirical curve, {m}")
    if len(mods) > 1:
        (h,) = leg.plot([], [], "o", color="0.3", mfc="white")
        handles.append(h)
        labels.append(f"operating point {mods[0]} (open) -> {mods[1]} (filled)")
    if ai is not None:
        ai_row = next((r for r in result["readers"] if r["reader"] == "AI"), None)
        (h,) = leg.plot([], [], "-", color=AI_COLOR, lw=2.2, marker="*", ms=10)
        handles.append(h)
        labels.append("AI" + (f" (AUC {ai_row['auc']:.3f})" if ai_row and finite(ai_row["auc"]) else ""))
    leg.legend(handles, labels, loc="upper left", fontsize=7, frameon=False, ncol=3)


def draw_forest(fig: Figure, rect, result: dict) -> None:
    """Per-reader sensitivity and specificity with Wilson 95% CIs, one row per reader x modality."""
    rows = list(result["readers"])
    n = len(rows)
    # Room below the axes for the tick labels and the caption, and above for the titles, in inches:
    # a fixed fraction of a short panel (few readers, in the flowing report) let the caption run into
    # the tick labels.
    height_in = max(rect[3] * fig.get_figheight(), 1e-6)
    bottom, top = min(0.4, max(0.12, 0.42 / height_in)), min(0.2, max(0.04, 0.25 / height_in))
    axes = [fig.add_axes(_sub(rect, x, bottom, 0.37, 1 - bottom - top)) for x in (0.2, 0.62)]
    y = np.arange(n)[::-1]
    labels = [f"{r['reader']} · {r['modality']} (n {r['n']})" for r in rows]
    mods = list(dict.fromkeys(r["modality"] for r in rows))
    colors = {m: ("C0" if i == 0 else "C1" if i == 1 else f"C{i + 2}") for i, m in enumerate(mods)}
    colors["standalone"] = AI_COLOR
    for ax, key, title in zip(axes, ("sensitivity", "specificity"), ("Sensitivity", "Specificity")):
        for yi, r in zip(y, rows):
            v, (lo, hi) = r[key], r[f"{key}_ci95"]
            if not finite(v):
                ax.text(0.5, yi, "not estimable", fontsize=6, va="center", ha="center", color="0.4")
                continue
            ax.plot([lo, hi], [yi, yi], color=colors[r["modality"]], lw=1.5)
            ax.plot(v, yi, "s", color=colors[r["modality"]], ms=4)
        for g in result["groups"]:
            if g["modality"] == mods[0] and g["group"] != "AI" and finite(g[key]):
                ax.axvline(g[key], color="0.85", lw=0.8, zorder=0)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(-0.8, n - 0.2)
        ax.set_title(f"{title} (95% Wilson CI)", fontsize=9)
        ax.grid(axis="x", color="0.92")
        ax.tick_params(axis="y", length=0)
        ax.set_yticks(y)
        ax.set_yticklabels(labels if key == "sensitivity" else [], fontsize=6.5)
        ax.tick_params(axis="x", labelsize=7)
    fig.text(
        rect[0],
        rect[1],
        "Colour = modality; grey lines = group means in the first modality; n = cases read.",
        fontsize=7,
    )


def forest_figure(result: dict) -> Figure:
    fig = Figure(figsize=A4_PORTRAIT)
    draw_forest(fig, (0.06, 0.05, 0.9, 0.9), result)
    return fig


def switching_flow(flow, result: dict) -> None:
    """The switching analysis as tables in the report's flow."""
    sw = result["switching"]
    kinds = ("wrong_to_right", "right_to_wrong", "stayed_right", "stayed_wrong")
    cols = ["wrong -> right", "right -> wrong", "stayed right", "stayed wrong", "n"]
    flow.heading(f"How the AI changed decisions: {sw['unaided']} -> {sw['aided']}")
    flow.para(
        "Each reader x case read both ways, split by whether the AI was right. Automation bias: the reader adopted "
        "the AI's wrong answer after being right unaided.",
        size=7.5,
        style="italic",
    )

    def cells(block: dict, label: str) -> list[str]:
        t = block[label]
        return [str(t[k]) for k in kinds] + [str(sum(t.values()))]

    total = sw["total"]
    flow.table(
        ["All readers", *cols],
        [["AI right", *cells(total, "ai_right")], ["AI wrong", *cells(total, "ai_wrong")]],
        widths=[0.2, 0.16, 0.16, 0.16, 0.16, 0.16],
        size=7.5,
    )
    ab = total["automation_bias"]
    rate = (
        f"{100 * ab['rate']:.1f}%"
        if finite(ab["rate"])
        else "not estimable (the AI was never wrong where the reader was right)"
    )
    flow.para(f"Automation bias: {ab['followed']} of {ab['opportunities']} opportunities ({rate}).", size=8)
    rows = []
    for r in sw["readers"]:
        a = r["automation_bias"]
        rows.append([f"{r['reader']} · AI right", *cells(r, "ai_right")])
        rows.append([f"{r['reader']} · AI wrong", *cells(r, "ai_wrong")])
        rows.append([f"{r['reader']} · automation bias", "", "", "", "", f"{a['followed']}/{a['opportunities']}"])
    flow.table(["Reader", *cols], rows, widths=[0.24, 0.152, 0.152, 0.152, 0.152, 0.152], size=7)


def draw_mrmc(fig: Figure, rect, result: dict) -> None:
    """Per figure of merit: modality means with single-modality 95% CIs, readers in grey."""
    res_all = result.get("mrmc") or {}
    n = max(len(res_all), 1)
    for k, (fom, res) in enumerate(res_all.items()):
        ax = fig.add_axes(_sub(rect, 0.06 + k / n, 0.14, 1 / n - 0.1, 0.76))
        mods = list(res["single_modality"])
        for i, m in enumerate(mods):
            sm = res["single_modality"][m]
            if finite(sm["ci95"][0]):
                ax.errorbar(
                    i,
                    sm["estimate"],
                    yerr=[[sm["estimate"] - sm["ci95"][0]], [sm["ci95"][1] - sm["estimate"]]],
                    fmt="o",
                    capsize=4,
                    color=f"C{i}",
                )
            else:
                ax.plot(i, sm["estimate"], "o", color=f"C{i}")
            for v in res["per_reader"][m].values():
                ax.plot(i + 0.15, v, ".", color="0.6", ms=4)
        ax.set_xticks(range(len(mods)))
        ax.set_xticklabels(mods, fontsize=7)
        ax.set_xlim(-0.5, len(mods) - 0.5)
        ax.set_title(
            f"{FOM_NAMES.get(fom, fom)} ({res.get('n_readers', 0)} readers, {res.get('n_cases', 0)} cases)", fontsize=8
        )
        ax.tick_params(axis="y", labelsize=7)
        ax.grid(axis="y", color="0.92")
    fig.text(
        rect[0],
        rect[1],
        "Dots: modality mean with its single-modality 95% CI (Hillis 2007); grey: individual readers.",
        fontsize=7,
    )


def mrmc_figure(result: dict) -> Figure | None:
    if not result.get("mrmc"):
        return None
    fig = Figure(figsize=A4_PORTRAIT)
    draw_mrmc(fig, (0.06, 0.6, 0.9, 0.3), result)
    return fig
