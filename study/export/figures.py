"""Report figures with matplotlib's object API (no pyplot state, Agg-safe, headless).

Each function returns a :class:`matplotlib.figure.Figure` sized for an A4 page.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from study.export.tables import paper_table
from study.stats import auc as auc_mod

A4_LANDSCAPE = (11.69, 8.27)
A4_PORTRAIT = (8.27, 11.69)
AI_COLOR = "#d62728"


def _page(size=A4_LANDSCAPE) -> Figure:
    return Figure(figsize=size)


def _table(ax, header: list[str], rows: list[list[str]], fontsize: float, row_height: float, first_width: float = 0.16):
    """A table whose first column holds the row labels, so nothing falls outside the axes."""
    n_other = len(header) - 1
    widths = [first_width] + [(1 - first_width) / n_other] * n_other
    table = ax.table(cellText=rows, colLabels=header, colWidths=widths, loc="upper center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(fontsize)
    for (r, c), cell in table.get_celld().items():
        cell.set_height(row_height * (1.3 if r == 0 else 1.0))
        if r == 0:
            cell.set_text_props(weight="bold")
        if c == 0:
            cell.set_text_props(ha="left")
            cell.PAD = 0.04
    return table


def title_page(result: dict, title: str) -> Figure:
    """Study summary, group table in the paper's layout, and the MRMC results in words."""
    fig = _page()
    fig.text(0.05, 0.94, title, fontsize=16, weight="bold")
    thr = result["threshold"]
    cut = f"rating >= {thr['value']:g} ({thr['source']})" if thr["value"] is not None else "decision column"
    fig.text(
        0.05,
        0.895,
        f"{result['n_readers']} readers, {result['n_cases']} cases ({result['n_positive']} positive, "
        f"{result['n_negative']} negative), modalities: {', '.join(result['modalities'])}.  Decision: {cut}.",
        fontsize=9,
    )
    cols, rows, cells = paper_table(result)
    ax = fig.add_axes((0.05, 0.50, 0.9, 0.36))
    ax.axis("off")
    ax.set_title("Per-group performance, % (95% CI)", fontsize=11, loc="left", pad=4)
    if cells:
        _table(ax, ["Group", *cols], [[r, *c] for r, c in zip(rows, cells)], fontsize=7, row_height=0.16, first_width=0.1)
    ai_note = "  AI alone reads each case once and is shown under every modality." if "AI" in result["groups_order"] else ""
    fig.text(
        0.05,
        0.47,
        "Group values are means over the group's readers; CIs are Wilson intervals on pooled counts (descriptive). "
        "SS-Avg = (sensitivity + specificity) / 2." + ai_note,
        fontsize=7,
        style="italic",
    )
    lines = _mrmc_lines(result)
    fig.text(0.05, 0.41, "MRMC (Obuchowski-Rockette, Hillis ddf; random readers and cases)", fontsize=11, weight="bold")
    for k, line in enumerate(lines):
        fig.text(0.05, 0.375 - 0.03 * k, line, fontsize=8.5, family="monospace")
    extra = _mcnemar_lines(result) + _sample_size_lines(result)
    top = 0.375 - 0.03 * len(lines) - 0.03
    for k, line in enumerate(extra):
        fig.text(0.05, top - 0.025 * k, line, fontsize=8)
    for k, note in enumerate(result.get("notes", [])):
        fig.text(0.05, 0.06 - 0.02 * k, f"Note: {note}", fontsize=7.5)
    return fig


def _p(p: float) -> str:
    return "<0.001" if p < 0.001 else f"={p:.3f}"


def _mcnemar_lines(result: dict) -> list[str]:
    mc = result.get("mcnemar") or []
    if not mc:
        return []
    head = f"McNemar (McNemar 1947), correct in {mc[0]['modality_a']} only / {mc[0]['modality_b']} only, p:"
    parts = [f"{m['reader']} {m['b']}/{m['c']} p{_p(m['p'])}" for m in mc]
    rows = [head]
    for i in range(0, len(parts), 6):
        rows.append("    " + ";  ".join(parts[i : i + 6]))
    return rows


def _sample_size_lines(result: dict) -> list[str]:
    ss = result.get("sample_size")
    if not ss or not ss["table"]:
        return []
    cells = ", ".join(
        f"{int(r['readers'])} readers x {int(r['cases'])} cases" if r["cases"] else f"{int(r['readers'])} readers: not reachable"
        for r in ss["table"]
    )
    return [
        f"Sample size (Hillis, Obuchowski & Berbaum 2011) for {int(100 * ss['target_power'])}% power at |difference in AUC| = "
        f"{ss['effect']:.3f}, alpha {ss['alpha']}:",
        "    " + cells,
    ]


def _mrmc_lines(result: dict) -> list[str]:
    lines = []
    for fom, res in result.get("mrmc", {}).items():
        est = ", ".join(f"{m} {v:.3f}" for m, v in res["estimates"].items())
        if res["pairwise"]:
            p = res["pairwise"][0]
            lines.append(
                f"{fom:<12} {est};  {p['comparison']} = {p['difference']:+.3f} "
                f"[{p['ci95'][0]:+.3f}, {p['ci95'][1]:+.3f}],  F({res['df1']}, {res['df2']:.1f}) = {res['f']:.2f}, p {_p(res['p'])}"
            )
        else:
            lines.append(f"{fom:<12} {est}")
    return lines or ["(needs at least two readers)"]


def roc_figure(reads: pd.DataFrame, result: dict, ai: pd.DataFrame | None = None) -> Figure:
    """Empirical ROC curves per reader and modality, unaided -> aided operating points as arrows, AI curve."""
    fig = _page(A4_LANDSCAPE)
    ax = fig.add_axes((0.06, 0.3, 0.4, 0.6))
    zoom = fig.add_axes((0.55, 0.3, 0.4, 0.6))
    mods = result["modalities"]
    for a in (ax, zoom):
        _draw_roc(a, reads, result, ai, mods)
    pts = [(1 - r["specificity"], r["sensitivity"]) for r in result["readers"] if r["sensitivity"] == r["sensitivity"]]
    if pts:
        xs, ys = zip(*pts)
        x_hi = min(1.0, max(xs) + 0.08)
        y_lo = max(0.0, min(ys) - 0.08)
        zoom.set_xlim(max(0.0, min(xs) - 0.03), x_hi)
        zoom.set_ylim(y_lo, min(1.0, max(ys) + 0.05) + 0.01)
        zoom.set_aspect("auto")
        zoom.set_title("Operating points (zoomed)")
        x0, x1 = zoom.get_xlim()
        ax.add_patch(Rectangle((x0, y_lo), x1 - x0, zoom.get_ylim()[1] - y_lo, fill=False, ls=":", color="0.4"))
    ax.set_title("ROC: " + (f"{mods[0]} -> {mods[1]}" if len(mods) > 1 else mods[0]) + ", arrows per reader")
    _roc_legend(fig, result, ai, mods)
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


def _roc_legend(fig: Figure, result: dict, ai: pd.DataFrame | None, mods: list[str]) -> None:
    """Legend in its own band below the plots so it never covers a curve."""
    readers = result["readers_order"]
    palette = [f"C{i % 10}" for i in range(len(readers))]
    styles = ["--", "-", ":", "-."]
    leg = fig.add_axes((0.06, 0.02, 0.9, 0.18))
    leg.axis("off")
    handles, labels = [], []
    for j, reader in enumerate(readers):
        (h,) = leg.plot([], [], "o-", color=palette[j])
        handles.append(h)
        by = {r["modality"]: r.get("auc") for r in result["readers"] if r["reader"] == reader}
        aucs = ", ".join(f"{m} {by[m]:.3f}" for m in mods if m in by and by[m] == by[m])
        labels.append(f"{reader}  (AUC {aucs})")
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
        labels.append("AI" + (f"  (AUC {ai_row['auc']:.3f})" if ai_row and ai_row["auc"] == ai_row["auc"] else ""))
    leg.legend(handles, labels, loc="upper left", fontsize=8, frameon=False, ncol=2)


def forest_figure(result: dict) -> Figure:
    """Per-reader sensitivity and specificity with Wilson 95% CIs, one row per reader x modality."""
    rows = [r for r in result["readers"]]
    n = len(rows)
    fig = _page(A4_PORTRAIT)
    height = min(0.82, 0.05 + 0.028 * n)
    axes = [fig.add_axes((0.25, 0.93 - height, 0.33, height)), fig.add_axes((0.63, 0.93 - height, 0.33, height))]
    y = np.arange(n)[::-1]
    labels = [f"{r['reader']} · {r['modality']}" for r in rows]
    mods = list(dict.fromkeys(r["modality"] for r in rows))
    colors = {m: ("C0" if i == 0 else "C1" if i == 1 else f"C{i + 2}") for i, m in enumerate(mods)}
    colors["standalone"] = AI_COLOR
    for ax, key, title in zip(axes, ("sensitivity", "specificity"), ("Sensitivity", "Specificity")):
        for yi, r in zip(y, rows):
            v, (lo, hi) = r[key], r[f"{key}_ci95"]
            if v != v:
                continue
            ax.plot([lo, hi], [yi, yi], color=colors[r["modality"]], lw=1.5)
            ax.plot(v, yi, "s", color=colors[r["modality"]], ms=4)
        for g in result["groups"]:
            if g["modality"] == mods[0] and g["group"] != "AI":
                ax.axvline(g[key], color="0.85", lw=0.8, zorder=0)
        ax.set_xlim(0, 1.02)
        ax.set_ylim(-0.8, n - 0.2)
        ax.set_title(f"{title} (95% Wilson CI)", fontsize=10)
        ax.grid(axis="x", color="0.92")
        ax.tick_params(axis="y", length=0)
        ax.set_yticks(y)
        ax.set_yticklabels(labels if key == "sensitivity" else [], fontsize=7)
        ax.tick_params(axis="x", labelsize=8)
    fig.text(0.25, 0.93 - height - 0.04, "Colour = modality; grey lines = group means in the first modality.", fontsize=8)
    return fig


def switching_figure(result: dict) -> Figure | None:
    """Tables of unaided -> aided switches by AI correctness, total and per reader."""
    sw = result.get("switching")
    if not sw:
        return None
    fig = _page(A4_PORTRAIT)
    fig.text(0.07, 0.95, f"Switching analysis: {sw['unaided']} -> {sw['aided']}", fontsize=14, weight="bold")
    cols = ["wrong -> right", "right -> wrong", "stayed right", "stayed wrong", "n"]
    kinds = ("wrong_to_right", "right_to_wrong", "stayed_right", "stayed_wrong")

    def cells_for(block: dict) -> list[list[str]]:
        out = []
        for label in ("ai_right", "ai_wrong"):
            t = block[label]
            out.append([str(t[k]) for k in kinds] + [str(sum(t.values()))])
        return out

    total = sw["total"]
    ax = fig.add_axes((0.07, 0.78, 0.86, 0.12))
    ax.axis("off")
    ax.set_title("All readers (reader x case pairs)", fontsize=10, loc="left")
    _table(ax, ["AI", *cols], [[lab, *c] for lab, c in zip(["AI right", "AI wrong"], cells_for(total))], 9, 0.3)
    ab = total["automation_bias"]
    rate = f"{100 * ab['rate']:.1f}%" if ab["rate"] == ab["rate"] else "n/a"
    fig.text(
        0.07,
        0.72,
        f"Automation bias: readers adopted the AI's wrong answer in {ab['followed']} of {ab['opportunities']} "
        f"opportunities ({rate}),\nwhere an opportunity is a case the AI got wrong that the reader had right unaided.",
        fontsize=9,
    )
    rows, cells = [], []
    for r in sw["readers"]:
        for label, name in (("ai_right", "AI right"), ("ai_wrong", "AI wrong")):
            t = r[label]
            rows.append(f"{r['reader']} · {name}")
            cells.append([str(t[k]) for k in kinds] + [str(sum(t.values()))])
        a = r["automation_bias"]
        rows.append(f"{r['reader']} · automation bias")
        cells.append(["", "", "", "", f"{a['followed']}/{a['opportunities']}"])
    ax2 = fig.add_axes((0.07, 0.04, 0.86, 0.62))
    ax2.axis("off")
    ax2.set_title("Per reader", fontsize=10, loc="left")
    _table(ax2, ["reader · AI", *cols], [[lab, *c] for lab, c in zip(rows, cells)], 7.5, min(0.04, 0.95 / (len(rows) + 1)), 0.24)
    return fig


def mrmc_figure(result: dict) -> Figure | None:
    """Per figure of merit: modality estimates with single-modality CIs and the difference with its CI."""
    res_all = result.get("mrmc") or {}
    if not res_all:
        return None
    fig = _page(A4_LANDSCAPE)
    fig.text(0.05, 0.94, "MRMC: reader-averaged figures of merit (OR-Hillis, random readers and cases)", fontsize=13, weight="bold")
    n = len(res_all)
    for k, (fom, res) in enumerate(res_all.items()):
        ax = fig.add_axes((0.07 + k * (0.9 / n), 0.42, 0.9 / n - 0.07, 0.45))
        mods = res["modalities"]
        for i, m in enumerate(mods):
            sm = res["single_modality"][m]
            ax.errorbar(i, sm["estimate"], yerr=[[sm["estimate"] - sm["ci95"][0]], [sm["ci95"][1] - sm["estimate"]]], fmt="o", capsize=4, color=f"C{i}")
            for rd, v in res["per_reader"][m].items():
                ax.plot(i + 0.15, v, ".", color="0.6", ms=4)
        ax.set_xticks(range(len(mods)))
        ax.set_xticklabels(mods, fontsize=8)
        ax.set_xlim(-0.5, len(mods) - 0.5)
        ax.set_title(fom, fontsize=10)
        ax.tick_params(axis="y", labelsize=8)
        ax.grid(axis="y", color="0.92")
        vc = res["variance_components"]
        txt = (
            f"diff {res['difference']:+.3f} [{res['ci95'][0]:+.3f}, {res['ci95'][1]:+.3f}]\n"
            f"F = {res['f']:.2f}, df = {res['df1']}, {res['df2']:.1f}, p {_p(res['p'])}\n"
            f"fixed readers p {_p(res['fixed_readers']['p'])}\nfixed cases p {_p(res['fixed_cases']['p'])}\n"
            f"var(R) {vc['reader']:.2e}, var(TR) {vc['treatment_reader']:.2e}\n"
            f"Var {vc['error']:.2e}, Cov1 {vc['cov1']:.2e}\nCov2 {vc['cov2']:.2e}, Cov3 {vc['cov3']:.2e}"
        ) if res["pairwise"] else ""
        fig.text(0.07 + k * (0.9 / n), 0.30, txt, fontsize=7.5, family="monospace", va="top")
    fig.text(0.05, 0.35, "Dots: modality mean with its single-modality 95% CI; grey: individual readers.", fontsize=8)
    return fig
