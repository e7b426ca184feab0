"""The PDF report: A4 portrait throughout, a title page with the protocol, tables with n, figures.

Text and tables flow down the page (:class:`Flow`) and continue on a new
page when one is full, so there are no half-empty pages between sections.
Figures come from :mod:`study.export.figures`.  Everything is drawn with
matplotlib's object API (no pyplot), headless.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pandas as pd
from matplotlib.backends.backend_pdf import PdfPages
from matplotlib.figure import Figure

from study.export import figures
from study.export.front import front_matter
from study.export.wording import (
    FOM_NAMES,
    finite,
    mrmc_line,
    num,
    pct,
    plural,
    threshold_text,
)

A4 = (8.27, 11.69)
LEFT, RIGHT, TOP, BOTTOM = 0.08, 0.92, 0.95, 0.06
LINE = 0.0155  # one 8.5-pt text line as a fraction of the page height


class Flow:
    """Lays text, tables and figures top to bottom over as many A4 portrait pages as needed."""

    def __init__(self, footer: str) -> None:
        self.footer = footer
        self.pages: list[Figure] = []
        self.new_page()

    def new_page(self) -> None:
        fig = Figure(figsize=A4)
        self.pages.append(fig)
        self.fig, self.y = fig, TOP

    def need(self, h: float) -> None:
        if self.y - h < BOTTOM:
            self.new_page()

    def space(self, h: float = LINE) -> None:
        self.y -= h

    def title(self, text: str, size: float = 20) -> None:
        for line in textwrap.wrap(text, 50):
            self.need(0.035)
            self.fig.text(LEFT, self.y, line, fontsize=size, weight="bold", va="top")
            self.y -= 0.035

    def heading(self, text: str, size: float = 12) -> None:
        self.need(0.06)
        self.y -= 0.01
        self.fig.text(LEFT, self.y, text, fontsize=size, weight="bold", va="top")
        self.y -= 0.026

    def para(self, text: str, size: float = 8.5, width: int = 112, style: str = "normal") -> None:
        for line in textwrap.wrap(text, int(width * 8.5 / size)) or [""]:
            self.need(LINE)
            self.fig.text(LEFT, self.y, line, fontsize=size, va="top", style=style)
            self.y -= LINE * size / 8.5

    def table(
        self,
        header: list[str],
        rows: list[list[str]],
        widths: list[float] | None = None,
        size: float = 7.5,
        align: str = "center",
    ) -> None:
        """A table that continues (header repeated) on the next page when it does not fit.
        ``align``: of the columns after the first ("left" for an item / value table of sentences)."""

        def lines(row):
            return max(str(c).count("\n") + 1 for c in row)

        unit = 0.0135 * size / 7.5
        start = 0
        while start < len(rows):
            head_h = unit * lines(header) + 0.006
            self.need(head_h + unit * lines(rows[start]) + 0.008)
            room = self.y - BOTTOM - head_h
            stop, used = start, 0.0
            while stop < len(rows) and used + unit * lines(rows[stop]) + 0.006 <= room:
                used += unit * lines(rows[stop]) + 0.006
                stop += 1
            stop = max(stop, start + 1)
            chunk = rows[start:stop]
            h = head_h + sum(unit * lines(r) + 0.006 for r in chunk)
            ax = self.fig.add_axes((LEFT, self.y - h, RIGHT - LEFT, h))
            ax.axis("off")
            t = ax.table(cellText=chunk, colLabels=header, colWidths=widths, loc="upper center", cellLoc="center")
            t.auto_set_font_size(False)
            t.set_fontsize(size)
            # Each row as tall as its own lines (a bbox would make every row the same height).
            heights = [head_h] + [unit * lines(r) + 0.006 for r in chunk]
            for (r, c), cell in t.get_celld().items():
                cell.set_height(heights[r] / h)
                cell.set_linewidth(0.3)
                if r == 0:
                    cell.set_text_props(weight="bold")
                    cell.set_facecolor("#eeeeee")
                if c == 0 or (align == "left" and r > 0):
                    cell.set_text_props(ha="left")
                    cell.PAD = 0.03 if c == 0 else 0.03 * (widths[0] / widths[c] if widths else 1.0)
            self.y -= h + 0.012
            start = stop
            if start < len(rows):
                self.new_page()

    def figure(self, draw, height: float, heading: str | None = None) -> None:
        """``draw(fig, rect)`` draws into the page within rect = (x, y, w, h) in page fractions.

        A ``heading`` stays on the same page as its figure.  A figure shrinks to as
        little as 3/4 of ``height`` to use the rest of a page rather than leave it blank."""
        head = 0.04 if heading else 0.0
        room = self.y - BOTTOM - head
        if height > room >= 0.75 * height:
            height = room
        self.need(height + head)
        if heading:
            self.heading(heading)
        draw(self.fig, (LEFT, self.y - height, RIGHT - LEFT, height))
        self.y -= height + 0.01

    def finish(self, total: int | None = None) -> list[Figure]:
        """Footer and page numbers; ``total``: the pages of the whole PDF when more follow these."""
        n = total or len(self.pages)
        for k, fig in enumerate(self.pages, start=1):
            fig.text(LEFT, 0.025, self.footer, fontsize=7, color="0.4")
            fig.text(RIGHT, 0.025, f"page {k} of {n}", fontsize=7, color="0.4", ha="right")
        return self.pages


def _analysis_rows(result: dict, study: dict | None) -> list[list[str]]:
    """The binary analysis' own rows under the study's front table (``study.export.front``)."""
    prog = result.get("progress") or {}
    groups: dict[str, int] = {}
    for r in result["readers"]:
        if r["reader"] != "AI" and r["modality"] == result["modalities"][0]:
            groups[r["group"]] = groups.get(r["group"], 0) + 1
    readers = plural(result["n_readers"], "reader")
    if len(groups) > 1 or (groups and next(iter(groups)) not in ("all", "ungrouped")):
        readers += " (" + ", ".join(f"{n} {g}" for g, n in groups.items()) + ")"
    rows = [
        ["Readers analysed", readers],
        ["Cases analysed", f"{result['n_cases']} ({result['n_positive']} positive, {result['n_negative']} negative)"],
        ["Modalities", ", ".join(result["modalities"])],
    ]
    auc = (result.get("mrmc") or {}).get("auc") or {}
    if auc.get("design"):  # the reads' own crossing, which the MRMC covariance follows
        rows.append(["Design as read", f"{auc['design']} (MRMC covariance: {auc.get('covariance', '-')})"])
    rows.append(["Readers' decision", threshold_text(result.get("thresholds", {}).get("readers"))])
    ai_told = bool(((study or {}).get("ai") or {}).get("operating_point"))
    if "AI" in (result.get("thresholds") or {}) and not ai_told:  # else the front table's "AI operating point"
        rows.append(["AI's decision", threshold_text(result["thresholds"]["AI"])])
    rows.append(["Reads analysed", str(prog.get("n_reads", "-"))])
    rows.append(["Status", status_text(prog)])
    return rows


def status_text(prog: dict) -> str:
    """'complete', or 'INTERIM: ...' with the planned reads done when the study's plan is known."""
    if not prog.get("interim"):
        return "complete"
    done = prog.get("done", prog.get("reads"))  # a region report without a stored study counts its reads
    if prog.get("planned") and done is not None:
        return f"INTERIM: reading still under way, {done} of {prog['planned']} planned reads done"
    return "INTERIM: reading still under way"


def _progress_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    prog = result.get("progress") or {}
    if prog.get("sessions"):  # the study's plan: every enrolled reader x every session, read or not
        names = list(dict.fromkeys(c["session"] for c in prog["sessions"]))
        cells = {(c["reader"], c["session"]): c for c in prog["sessions"]}
        readers = list(dict.fromkeys(c["reader"] for c in prog["sessions"]))
        rows = [
            [rd]
            + [f"{cells[(rd, n)]['done']} of {cells[(rd, n)]['planned']}" if (rd, n) in cells else "-" for n in names]
            for rd in readers
        ]
        return ["Reader", *[f"cases read, {n}" for n in names]], rows
    mods = result["modalities"]
    cells = {(c["reader"], c["modality"]): c["n"] for c in prog.get("reads", [])}
    exp = prog.get("expected_cases")
    rows = []
    for rd in result["readers_order"]:
        rows.append([rd] + [f"{cells.get((rd, m), 0)}" + (f" of {exp}" if exp else "") for m in mods])
    return ["Reader", *[f"reads, {m}" for m in mods]], rows


def _group_rows(result: dict) -> list[list[str]]:
    rows = []
    for g in result["groups"]:
        why = g.get("not_estimable", {})
        name = "AI alone" if g["group"] == "AI" else g["group"]
        rows.append(
            [
                name,
                g["modality"],
                str(g["n_readers"]),
                str(g.get("n_reads", "")),
                *(
                    _cell(pct(g[k], g[f"{k}_ci95"], why.get(k)), 18)
                    for k in ("accuracy", "sensitivity", "specificity", "ss_avg")
                ),
                _cell(num(g["auc"], reason=why.get("auc")), 14),
            ]
        )
    return rows


def _reader_rows(result: dict) -> list[list[str]]:
    rows = []
    for r in result["readers"]:
        why = r.get("not_estimable", {})
        rows.append(
            [
                r["reader"],
                r["modality"],
                f"{r['n']} ({r.get('n_positive', 0)}+/{r.get('n_negative', 0)}-)",
                *(_cell(pct(r[k], r[f"{k}_ci95"], why.get(k)), 22) for k in ("sensitivity", "specificity", "accuracy")),
                _cell(num(r["auc"], reason=why.get("auc")), 14),
                num(r.get("seconds_median"), 1) if finite(r.get("seconds_median")) else "not timed",
            ]
        )
    return rows


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) or text


def _cell(text: str, width: int = 22) -> str:
    """A table cell: 'not estimable (reason)' wrapped onto lines so it stays inside its column."""
    return _wrap(text.replace("not estimable (", "not estimable\n("), width) if "not estimable" in text else text


def build_pages(
    reads: pd.DataFrame, result: dict, ai: pd.DataFrame | None, title: str, study: dict | None = None
) -> list[Figure]:
    """Every page of the report as matplotlib Figures (A4 portrait)."""
    prog = result.get("progress") or {}
    flow = Flow(f"{title} - " + ("interim report" if prog.get("interim") else "report"))
    notice = ""
    if prog.get("interim"):
        detail = " ".join(
            n.removeprefix("Interim: ")[:1].upper() + n.removeprefix("Interim: ")[1:]
            for n in result.get("notes", [])
            if n.startswith("Interim:")
        )
        notice = f"INTERIM ANALYSIS: reading is still under way ({prog.get('n_reads', 0)} reads so far). {detail}"
    front_matter(
        flow,
        title,
        study,
        _analysis_rows(result, study),
        subtitle="Reader study report: per-reader and per-group diagnostic performance, multi-reader multi-case "
        "(MRMC) comparison of the modalities, and the effect of the AI on the readers' decisions.",
        notice=notice,
    )
    if prog.get("interim"):
        header, rows = _progress_rows(result)
        flow.heading("Reading progress")
        flow.table(header, rows, size=8)

    flow.heading("Performance by group")
    flow.para(
        "Percentages with 95% CIs. Group values are the mean over the group's readers; CIs are Wilson intervals on "
        "the pooled counts (descriptive; reader variability is in the MRMC section). SS-Avg = (sensitivity + "
        "specificity) / 2. The AI reads each case once.",
        size=7.5,
        style="italic",
    )
    flow.table(
        ["Group", "Modality", "Readers", "Reads", "Accuracy %", "Sensitivity %", "Specificity %", "SS-Avg %", "AUC"],
        _group_rows(result),
        widths=[0.1, 0.09, 0.07, 0.06, 0.14, 0.14, 0.14, 0.14, 0.12],
        size=7,
    )

    flow.heading("MRMC comparison of the modalities")
    flow.para(
        "Obuchowski-Rockette analysis with Hillis (2007) degrees of freedom; readers and cases random. "
        "n = readers and cases in the paired comparison.",
        size=7.5,
        style="italic",
    )
    mrmc = result.get("mrmc") or {}
    if not mrmc:
        flow.para("Not estimable: " + "; ".join(n for n in result.get("notes", []) if "MRMC" in n))
    for res in mrmc.values():
        flow.para(mrmc_line(res))
        for note in res.get("notes", []):
            flow.para("    " + note, size=7.5)
    if mrmc:
        flow.figure(lambda fig, rect: figures.draw_mrmc(fig, rect, result), 0.24)
    for line in figures.mcnemar_lines(result) + figures.sample_size_lines(result):
        flow.para(line, size=8)

    flow.figure(
        lambda fig, rect: figures.draw_roc_page(fig, rect, reads, result, ai),
        0.37,
        heading="ROC curves and operating points",
    )
    flow.figure(
        lambda fig, rect: figures.draw_forest(fig, rect, result),
        min(0.8, 0.1 + 0.022 * len(result["readers"])),
        heading="Sensitivity and specificity per reader",
    )
    flow.heading("Per reader")
    flow.table(
        ["Reader", "Modality", "Cases (+/-)", "Sensitivity %", "Specificity %", "Accuracy %", "AUC", "Median s"],
        _reader_rows(result),
        widths=[0.08, 0.09, 0.11, 0.17, 0.17, 0.17, 0.12, 0.09],
        size=7,
    )

    _agreement(flow, result)
    _reading_time(flow, result)
    if result.get("switching"):
        figures.switching_flow(flow, result)
    flow.heading("Notes")
    for note in result.get("notes", []) or ["None."]:
        flow.para("- " + note, size=8)
    return flow.finish()


def _agreement(flow: Flow, result: dict) -> None:
    ag = result.get("agreement") or {}
    if not ag.get("cohen"):
        return
    flow.heading("Inter-reader agreement on the decision")
    rows = [
        [
            f"{c['reader_a']} vs {c['reader_b']}",
            c["modality"],
            str(c["n"]),
            _cell(num(c["kappa"], reason=c.get("reason")), 40),
        ]
        for c in ag["cohen"]
    ]
    for mod, f in (ag.get("fleiss") or {}).items():
        rows.append(
            [
                f"Fleiss, all {f['n_readers']} readers",
                mod,
                str(f["n"]),
                _cell(num(f["kappa"], reason=f.get("reason")), 40),
            ]
        )
    flow.para(
        "Cohen's kappa (Cohen 1960) per reader pair on every case both read; Fleiss' kappa (Fleiss 1971) on the "
        "cases every reader read; n = cases.",
        size=7.5,
        style="italic",
    )
    flow.table(["Readers", "Modality", "n", "Kappa"], rows, widths=[0.4, 0.2, 0.1, 0.3], size=7)


def _reading_time(flow: Flow, result: dict) -> None:
    qc = result.get("reading_time")
    if not qc or not qc["readers"]:
        return
    flow.heading("Reading time quality control")
    flow.para(
        f"Reads shorter than {qc['floor_seconds']:g} s are flagged as implausibly fast.", size=7.5, style="italic"
    )
    rows = [
        [
            r["reader"],
            str(r["n"]),
            str(r["n_timed"]),
            num(r["median_seconds"], 1, reason="not timed"),
            f"{r['n_fast']}" + (" (!)" if r["n_fast"] else ""),
            _wrap(", ".join(r["fast_reads"][:4]) or "-", 60),
        ]
        for r in qc["readers"]
    ]
    flow.table(
        ["Reader", "Reads", "Timed", "Median s", "Too fast", "Examples"],
        rows,
        widths=[0.1, 0.08, 0.08, 0.1, 0.1, 0.54],
        size=7,
    )


def write_pdf(
    reads: pd.DataFrame,
    result: dict,
    path: Path,
    ai: pd.DataFrame | None = None,
    title: str = "Reader study report",
    study: dict | None = None,
) -> Path:
    """Write the report; returns ``path``."""
    pages = build_pages(reads, result, ai, title, study)
    with PdfPages(path, metadata={"Title": title, "Creator": "readerstudy"}) as pdf:
        for fig in pages:
            pdf.savefig(fig)
    return Path(path)


__all__ = ["FOM_NAMES", "Flow", "build_pages", "finite", "write_pdf"]
