"""The results dashboard's data (no Qt): one analysis of a reads table and its views.

Every number comes from :func:`study.stats.analysis.analyze` (the CLI's
``analyze``/``report``); the views only pick and format.  The paper table is
:func:`study.export.tables.paper_table`, the same cells as the PDF report.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from app.admin.region_results_state import RegionAnalysis
from study.errors import StudyError
from study.export.tables import paper_table
from study.export.wording import mrmc_n, mrmc_reason, threshold_text
from study.protocol import Task
from study.stats import auc as auc_mod
from study.stats.analysis import AI_MODALITY, AI_READER, analyze, normalise_ai
from study.stats.table import normalise_reads, with_decisions

FOM_NAMES = {"auc": "AUC", "sensitivity": "Sensitivity", "specificity": "Specificity"}


@dataclass(frozen=True)
class Analysis:
    """What the worker hands back: the inputs as analysed and ``analyze``'s result."""

    source: str
    reads: pd.DataFrame  # normalised, with decisions
    ai: pd.DataFrame | None  # normalised: case, rating, decision
    result: dict
    raw_reads: pd.DataFrame = field(repr=False, default=None)
    raw_ai: pd.DataFrame | None = field(repr=False, default=None)


def _analysis(
    source: str, reads: pd.DataFrame, ai: pd.DataFrame | None, result: dict | None = None, ai_source: str = "AI outputs"
) -> Analysis:
    """Analyse whatever is there: an unfinished reader is part of an interim analysis, not an error.
    AI outputs missing some of the readers' cases are refused, naming ``ai_source`` (as `readerstudy analyze`)."""
    if reads is None or len(reads) == 0:
        raise StudyError([f"{source}: no submitted reads yet"])
    result = result or analyze(reads, ai=ai, source=source, ai_source=ai_source)
    df, _ = with_decisions(normalise_reads(reads, source=source, require_all_modalities=False))
    ai_norm = normalise_ai(ai, set(df["case"])) if ai is not None else None
    return Analysis(source, df, ai_norm, result, reads, ai)


STORE_SOURCE = " (store)"  # the source of an analysis read from the study's store


def analyze_store(study_dir: Path) -> Analysis | TaskAnalysis | RegionAnalysis:
    """Worker body: the study's stored reads and AI outputs, as `readerstudy report` loads them.

    Binary studies get ``analyze``'s result; region studies the region statistics
    (:func:`app.admin.region_results_state.analyze_region_store`); the other task kinds their
    own metrics (:func:`analyze_task_store`), the same split as the CLI's report."""
    from study.export.cli import analyze_study, load_study
    from study.protocol import load_protocol

    kind = load_protocol(Path(study_dir)).task.kind
    if kind == "region":  # masks, not ratings: the region statistics of `readerstudy report`
        from app.admin.region_results_state import analyze_region_store

        return analyze_region_store(Path(study_dir), f"{study_dir}{STORE_SOURCE}")
    if kind != "binary":
        return analyze_task_store(study_dir)
    reads, ai = load_study(Path(study_dir))
    if reads is None or len(reads) == 0:
        raise StudyError([f"{study_dir} (store): no submitted reads yet"])
    # The protocol's scale, case count (interim counts) and time floor, as `readerstudy report` uses them.
    return _analysis(f"{study_dir}{STORE_SOURCE}", reads, ai, analyze_study(Path(study_dir), reads, ai))


def analyze_csv(reads_csv: Path, ai_csv: Path | None = None) -> Analysis:
    """Worker body: a long-format reads CSV (and an AI outputs CSV), as `readerstudy analyze` reads them."""
    from study.stats.cli import read_csv

    reads = read_csv(Path(reads_csv), "reads")
    ai = read_csv(Path(ai_csv), "AI outputs") if ai_csv else None
    return _analysis(str(reads_csv), reads, ai, ai_source=str(ai_csv) if ai_csv else "AI outputs")


def analyze_frames(reads: pd.DataFrame, ai: pd.DataFrame | None, source: str = "reads") -> Analysis:
    """Worker body for tables already in memory (e.g. a seeded simulation)."""
    return _analysis(source, reads, ai)


def export_report(
    analysis: Analysis | TaskAnalysis | RegionAnalysis, out_dir: Path, title: str, study_dir: Path | None = None
) -> dict[str, Path]:
    """Worker body: the export folder.

    A study's stored reads: exactly what `readerstudy report STUDY --out DIR` runs
    (``study.export.cli.export_study``: the same files, reads.csv with every read
    version, the same PDF, the audit anchor beside the outputs).  A reads table
    loaded from a file: the report of that table, from the analysis on screen.
    """
    if study_dir is not None and analysis.source.endswith(STORE_SOURCE):
        from study.export.cli import export_study

        return export_study(Path(study_dir), Path(out_dir))
    if isinstance(analysis, RegionAnalysis):  # only ever from a study's store
        raise StudyError([f"{analysis.source}: a region study's report is written from its folder (no study folder)"])
    from study.export.report import write_report

    if isinstance(analysis, TaskAnalysis):
        from study.export.task_report import write_task_report

        return write_task_report(
            analysis.raw_reads, out_dir, analysis.task, ai=analysis.raw_ai, title=title, specimens=analysis.specimens
        )
    return write_report(analysis.raw_reads, out_dir, ai=analysis.raw_ai, result=analysis.result, title=title)


# -- views ---------------------------------------------------------------
def _num(v: float, digits: int = 2) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def mrmc_sentence(result: dict, fom: str = "auc") -> str:
    """'AUC unaided 0.88 vs aided 0.93, difference 0.05 (95% CI 0.01 to 0.09), F = 6.1, df = 1, 14.2, p = 0.03 [n]'.

    The difference is second minus first modality (aided minus unaided);
    ``analyze`` reports first minus second, so the sign and the CI flip.
    Every sentence ends with its n (readers, cases); a comparison that cannot
    be made says why, in words about the study, and who was left out.
    """
    res = (result.get("mrmc") or {}).get(fom)
    name = FOM_NAMES.get(fom, fom)
    if not res:
        notes = [n for n in result.get("notes", []) if "MRMC" in n]
        why = notes[0].rstrip(".") if notes else "needs two readers and two modalities"
        return f"{name}: no MRMC result ({why})."
    mods = list(res["estimates"])
    est = res["estimates"]
    left = res.get("left_out") or []
    tail = f" [{mrmc_n(res)}" + (f"; left out: {', '.join(x['reader'] for x in left)}" if left else "") + "]"
    if not res.get("pairwise"):
        return (
            f"{name} "
            + ", ".join(f"{m} {_num(est[m])}" for m in mods)
            + f"; no paired comparison: {mrmc_reason(res)}{tail}."
        )
    pair = res["pairwise"][0]
    if not math.isfinite(pair["se"]) or not math.isfinite(res["f"]):
        return (
            f"{name} {mods[0]} {_num(est[mods[0]])} vs {mods[1]} {_num(est[mods[1]])}; "
            f"test not estimable ({mrmc_reason(res)}){tail}."
        )
    lo, hi = pair["ci95"]
    p = res["p"]
    p_text = "p < 0.001" if math.isfinite(p) and p < 0.001 else f"p = {_num(p, 3 if p < 0.01 else 2)}"
    return (
        f"{name} {mods[0]} {_num(est[mods[0]])} vs {mods[1]} {_num(est[mods[1]])}, "
        f"difference {_num(-pair['difference'])} (95% CI {_num(-hi)} to {_num(-lo)}), "
        f"F = {_num(res['f'], 1)}, df = {res['df1']}, {_num(res['df2'], 1)}, {p_text}{tail}"
    )


def paper_view(result: dict) -> tuple[list[str], list[str], list[list[str]]]:
    """(columns, rows, cells) of the per-group table: the PDF's own table function."""
    return paper_table(result)


@dataclass(frozen=True)
class ForestRow:
    label: str
    modality: str
    sensitivity: float
    sensitivity_ci: tuple[float, float]
    specificity: float
    specificity_ci: tuple[float, float]


def _forest_label(r: dict) -> str:
    """'spec1 · aided (n 3; specificity not estimable: no negative case read)'."""
    why = r.get("not_estimable") or {}
    gaps = "; ".join(f"{k} not estimable: {why[k]}" for k in ("sensitivity", "specificity") if k in why)
    return f"{r['reader']} · {r['modality']} (n {r['n']}" + (f"; {gaps}" if gaps else "") + ")"


def forest_rows(result: dict) -> list[ForestRow]:
    return [
        ForestRow(
            _forest_label(r),
            r["modality"],
            r["sensitivity"],
            tuple(r["sensitivity_ci95"]),
            r["specificity"],
            tuple(r["specificity_ci95"]),
        )
        for r in result["readers"]
    ]


@dataclass(frozen=True)
class RocSeries:
    reader: str
    modality: str
    fpf: np.ndarray
    tpf: np.ndarray


def roc_series(analysis: Analysis) -> tuple[list[RocSeries], RocSeries | None]:
    """Empirical ROC curves per reader x modality and the AI's, from the analysed tables."""
    df = analysis.reads
    curves = []
    for reader in analysis.result["readers_order"]:
        for m in analysis.result["modalities"]:
            sub = df[(df["reader"] == reader) & (df["modality"] == m)]
            if sub["truth"].nunique() == 2:
                curves.append(
                    RocSeries(reader, m, *auc_mod.roc_points(sub["truth"].to_numpy(), sub["rating"].to_numpy()))
                )
    ai_curve = None
    if analysis.ai is not None and len(analysis.ai):
        truth = df.drop_duplicates("case").set_index("case")["truth"]
        t = truth.reindex(analysis.ai["case"]).to_numpy()
        if len(set(t)) == 2:
            ai_curve = RocSeries(AI_READER, AI_MODALITY, *auc_mod.roc_points(t, analysis.ai["rating"].to_numpy()))
    return curves, ai_curve


def operating_points(result: dict) -> dict[tuple[str, str], tuple[float, float]]:
    """(reader, modality) -> (1 - specificity, sensitivity)."""
    return {(r["reader"], r["modality"]): (1 - r["specificity"], r["sensitivity"]) for r in result["readers"]}


SWITCH_COLUMNS = ("wrong → right", "right → wrong", "stayed right", "stayed wrong", "n")
_KINDS = ("wrong_to_right", "right_to_wrong", "stayed_right", "stayed_wrong")


def switching_rows(result: dict) -> list[list[str]]:
    """Rows (who, AI right/wrong, counts...) of the switching table; [] without AI outputs."""
    sw = result.get("switching")
    if not sw:
        return []
    rows = []
    for who, block in [("All readers", sw["total"])] + [(r["reader"], r) for r in sw["readers"]]:
        for key, name in (("ai_right", "AI right"), ("ai_wrong", "AI wrong")):
            t = block[key]
            rows.append([who, name, *(str(t[k]) for k in _KINDS), str(sum(t.values()))])
        ab = block["automation_bias"]
        rate = f"{100 * ab['rate']:.0f}%" if math.isfinite(ab["rate"]) else "n/a"
        rows.append([who, "automation bias", "", "", "", "", f"{ab['followed']}/{ab['opportunities']} ({rate})"])
    return rows


def time_rows(result: dict) -> tuple[list[str], list[list[str]]]:
    """Reading time per case, seconds (mean / median, n reads) per reader and modality, and the QC flag.

    The last column counts reads faster than the protocol's floor (default 2 s), as
    ``analyze``'s ``reading_time`` quality control does."""
    mods = result["modalities"]
    by = {(r["reader"], r["modality"]): r for r in result["readers"]}
    qc = result.get("reading_time") or {"floor_seconds": 2.0, "readers": []}
    fast = {r["reader"]: r for r in qc["readers"]}
    rows = []
    for reader in result["readers_order"]:
        line = [reader]
        for m in mods:
            r = by.get((reader, m))
            line.append(
                f"{_num(r['seconds_mean'], 1)} / {_num(r['seconds_median'], 1)} (n {r['n']})" if r else "no reads yet"
            )
        f = fast.get(reader)
        line.append("-" if not f else (f"{f['n_fast']} of {f['n_timed']}" + (" ⚠" if f["n_fast"] else "")))
        rows.append(line)
    groups = [g for g in result["groups"] if g["group"] != AI_READER]
    for g in dict.fromkeys(x["group"] for x in groups):
        line = [f"{g} (mean)"]
        for m in mods:
            row = next((x for x in groups if x["group"] == g and x["modality"] == m), None)
            line.append(f"{_num(row['seconds_mean'], 1)} ({row['n_readers']} readers)" if row else "no reads yet")
        line.append("")
        rows.append(line)
    return ["Reader", *[f"{m}: mean / median s" for m in mods], f"reads < {qc['floor_seconds']:g} s"], rows


def summary_text(result: dict) -> str:
    """Who read what, the decision rule of each source of ratings, and whether reading is still under way."""
    thr = result.get("thresholds") or {"readers": result["threshold"]}
    readers = f"{result['n_readers']} reader" + ("" if result["n_readers"] == 1 else "s")
    owner = {"readers": "readers'"}
    cuts = "; ".join(f"{owner.get(who, who + chr(39) + 's')} decision: {threshold_text(t)}" for who, t in thr.items())
    prog = result.get("progress") or {}
    interim = ""
    if prog.get("interim"):
        waiting = prog.get("not_started", []) + prog.get("unfinished", [])
        interim = f"INTERIM: {prog['n_reads']} reads so far; still reading: {', '.join(waiting)}. "
    return (
        f"{interim}{readers}, {result['n_cases']} cases ({result['n_positive']} positive, "
        f"{result['n_negative']} negative); reading modes {', '.join(result['modalities'])}; {cuts}."
    )


# -- multiclass, numeric and grade-distribution tasks ---------------------------
@dataclass(frozen=True)
class TaskAnalysis:
    """A non-binary study as `readerstudy report` analyses it: the AI is one more reader."""

    source: str
    task: Task
    typed: pd.DataFrame  # reads + AI rows, typed by task_reads (what analyze_task saw)
    rows: list[dict]  # analyze_task's result, one dict per reader x modality
    raw_reads: pd.DataFrame = field(repr=False, default=None)
    raw_ai: pd.DataFrame | None = field(repr=False, default=None)
    specimens: list[dict] = field(default_factory=list)  # study.stats.specimens rows ([]: no galleries)

    def row_keys(self) -> list[tuple[str, str]]:
        return [(r["reader"], r["modality"]) for r in self.rows]

    def row(self, key: tuple[str, str]) -> dict:
        return next(r for r in self.rows if (r["reader"], r["modality"]) == key)

    def subset(self, key: tuple[str, str]) -> pd.DataFrame:
        df = self.typed
        return df[(df["reader"].astype(str) == key[0]) & (df["modality"].astype(str) == key[1])]


def analyze_task_frames(
    reads: pd.DataFrame, task: Task, ai: pd.DataFrame | None = None, source: str = "reads"
) -> TaskAnalysis:
    """Worker body: the same concatenation and typing as write_task_report, then analyze_task."""
    from study.export.task_report import analyze_task, task_reads

    if reads is None or len(reads) == 0:
        raise StudyError([f"{source}: no submitted reads yet"])
    both = pd.concat([reads, ai], ignore_index=True) if ai is not None and len(ai) else reads
    typed = task_reads(both, task)
    return TaskAnalysis(source, task, typed, sorted(analyze_task(typed, task), key=row_order(typed)), reads, ai)


MODE_ORDER = {"unaided": 0, "aided": 1}


def row_order(typed: pd.DataFrame):
    """Sort key of analyze_task's rows: readers as they first read, unaided before aided, the AI last.

    analyze_task keeps the store's order, where a crossover reader's first session may be aided."""
    first = {str(r): i for i, r in enumerate(pd.unique(typed["reader"].astype(str)))}

    def key(row: dict) -> tuple:
        return (row["group"] == "AI", first.get(row["reader"], len(first)), MODE_ORDER.get(row["modality"], 2))

    return key


def analyze_task_store(study_dir: Path) -> TaskAnalysis:
    from study.export.specimen_stats import specimen_stats
    from study.export.task_report import load_task_study

    task, reads, ai = load_task_study(Path(study_dir))
    analysis = analyze_task_frames(reads, task, ai, f"{study_dir}{STORE_SOURCE}")
    return replace(analysis, specimens=specimen_stats(Path(study_dir), reads))


def specimen_table(ta: TaskAnalysis) -> tuple[list[str], list[list[str]]]:
    """(columns, cells) of the specimen statistics (issue 17), as specimens.csv has them."""
    head = ["Reader", "Mode", "Specimens", "Seconds (mean)", "Fields opened", "Decisive in AI top-k", "AI-pick miss"]
    cells = []
    for r in ta.specimens:
        known = r["decisive_known"]
        cells.append(
            [
                r["reader"],
                r["modality"],
                str(r["specimens"]),
                _f(r["seconds_mean"], 1),
                _f(r["fields_opened_mean"], 2),
                f"{r['decisive_in_top_k']}/{known} = {_f(r['decisive_in_top_k_rate'])}" if known else "n/a",
                _f(r["ai_pick_miss_rate"]),
            ]
        )
    return head, cells


def _f(v, digits: int = 3) -> str:
    return "n/a" if v is None or not math.isfinite(v) else f"{v:.{digits}f}"


def _ci(v: float, ci) -> str:
    # "to", not a dash: a bias CI is often negative ("-0.61 to -0.41")
    return f"{_f(v)} ({_f(ci[0])} to {_f(ci[1])})"


def task_table(ta: TaskAnalysis) -> tuple[list[str], list[list[str]]]:
    """(columns, cells) of the per reader x mode metrics table, three decimals like report.pdf."""
    head = ["Reader", "Mode", "Group", "n"]
    kind = ta.task.kind
    if kind == "multiclass":
        labels = list(ta.task.labels)
        # sensitivity and specificity share a cell: eight columns of both overflow a 1440 px window
        cols = head + ["Accuracy (95% CI)"] + [f"{lab} sens / spec" for lab in labels]
        collapse = any("binary_collapse" in r for r in ta.rows)
        if collapse:
            cols.append(f"{'/'.join(ta.task.positive)} vs rest sens / spec")
    elif kind == "numeric":
        unit = f" ({ta.task.unit})" if ta.task.unit else ""
        cols = head + [f"MAE{unit}", f"RMSE{unit}", "Pearson r (95% CI)", "Bias (95% CI)", "LoA low", "LoA high"]
    else:
        cols = head + ["EMD", "Avg grade dist", "Entropy dist", "Variance dist", "Precision @1", "Precision @2"]
    cells = []
    for r in ta.rows:
        line = [r["reader"], r["modality"], r["group"], str(r["n"])]
        if kind == "multiclass":
            line.append(_ci(r["accuracy"], r["accuracy_ci95"]))
            for lab in ta.task.labels:
                pc = r["per_class"].get(lab, {})
                line.append(f"{_f(pc.get('sensitivity'))} / {_f(pc.get('specificity'))}")
            if collapse:
                bc = r.get("binary_collapse", {})
                line.append(f"{_f(bc.get('sensitivity'))} / {_f(bc.get('specificity'))}")
        elif kind == "numeric":
            ba = r["bland_altman"]
            line += [
                _f(r["mae"]),
                _f(r["rmse"]),
                _ci(r["r"], r["r_ci95"]),
                _ci(ba["bias"], ba["bias_ci95"]),
                _f(ba["loa"][0]),
                _f(ba["loa"][1]),
            ]
        else:
            line += [_f(r[k]) for k in GRADE_KEYS]
        cells.append(line)
    return cols, cells


GRADE_KEYS = (
    "emd",
    "average_grade_distance",
    "entropy_distance",
    "variance_distance",
    "precision_at_1",
    "precision_at_2",
)


def confusion(ta: TaskAnalysis, key: tuple[str, str]) -> tuple[list[str], list[list[int]]]:
    """(labels, counts[truth][answer]) of one reader x mode, as analyze_task counted them."""
    r = ta.row(key)
    return list(r["labels"]), [list(map(int, line)) for line in r["counts"]]


@dataclass(frozen=True)
class BlandAltmanSeries:
    means: np.ndarray  # (read + truth) / 2
    differences: np.ndarray  # read - truth
    bias: float
    loa: tuple[float, float]


def bland_altman_series(ta: TaskAnalysis, key: tuple[str, str]) -> BlandAltmanSeries:
    """The points behind one row's Bland-Altman numbers (analyze_task keeps only the summary)."""
    from study.stats.numeric import bland_altman

    sub = ta.subset(key)
    ba = bland_altman(sub["value"].to_numpy(float), sub["truth"].to_numpy(float))
    return BlandAltmanSeries(
        np.asarray(ba["mean_of_methods"]), np.asarray(ba["differences"]), ba["bias"], tuple(ba["loa"])
    )


def mean_distributions(ta: TaskAnalysis, key: tuple[str, str]) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(grades, mean predicted, mean rater distribution) over one reader x mode's cases;
    each case's vector is normalised to sum 1 first, as the grade metrics do."""
    sub = ta.subset(key)
    sub = sub[sub["distribution"].notna()]
    k = len(ta.task.grades)
    if not len(sub):
        return list(ta.task.grades), np.zeros(k), np.zeros(k)

    def mean(col: str) -> np.ndarray:
        m = np.array([np.asarray(v, float) for v in sub[col]])
        return (m / np.where(m.sum(axis=1, keepdims=True) > 0, m.sum(axis=1, keepdims=True), 1)).mean(axis=0)

    return list(ta.task.grades), mean("distribution"), mean("truth")


def _mean_of(rows: list[dict], get) -> float:
    vals = [get(r) for r in rows]
    vals = [v for v in vals if v is not None and math.isfinite(v)]
    return float(np.mean(vals)) if vals else float("nan")


def group_sentences(ta: TaskAnalysis) -> list[str]:
    """One sentence per group x mode: the readers' mean of the headline metrics (the AI on its own)."""
    out = []
    order = dict.fromkeys((r["group"], r["modality"]) for r in ta.rows)
    for group, mode in order:
        rows = [r for r in ta.rows if r["group"] == group and r["modality"] == mode]
        who = (
            "AI alone"
            if group == "AI"
            else f"{group} · {mode} ({len(rows)} reader{'s' if len(rows) > 1 else ''}, mean)"
        )

        mean = partial(_mean_of, rows)
        if ta.task.kind == "multiclass":
            text = f"accuracy {_f(mean(lambda r: r['accuracy']), 2)}"
            if any("binary_collapse" in r for r in rows):
                pos = "/".join(ta.task.positive)
                text += (
                    f"; {pos} vs rest sensitivity {_f(mean(lambda r: r['binary_collapse']['sensitivity']), 2)},"
                    f" specificity {_f(mean(lambda r: r['binary_collapse']['specificity']), 2)}"
                )
        elif ta.task.kind == "numeric":
            unit = f" {ta.task.unit}" if ta.task.unit else ""
            text = (
                f"MAE {_f(mean(lambda r: r['mae']), 2)}{unit}, bias {_f(mean(lambda r: r['bland_altman']['bias']), 2)}"
                f"{unit}, Pearson r {_f(mean(lambda r: r['r']), 2)}"
            )
        else:
            text = (
                f"EMD {_f(mean(lambda r: r['emd']), 2)}, precision @1 {_f(mean(lambda r: r['precision_at_1']), 2)},"
                f" @2 {_f(mean(lambda r: r['precision_at_2']), 2)}"
            )
        out.append(f"{who}: {text}.")
    return out


def task_summary(ta: TaskAnalysis) -> str:
    readers = [r for r in ta.rows if r["group"] != "AI"]
    n_cases = ta.typed["case"].nunique()
    ai = " The AI is shown as a reader (standalone)." if len(readers) < len(ta.rows) else " No AI outputs stored."
    what = {
        "multiclass": "multiclass (" + " / ".join(ta.task.labels) + ")",
        "numeric": f"numeric ({ta.task.unit})" if ta.task.unit else "numeric",
        "grade_distribution": "grade distribution (" + " / ".join(ta.task.grades) + ")",
    }[ta.task.kind]
    return (
        f"{what} task: {len({r['reader'] for r in readers})} readers, {n_cases} cases, "
        f"{len(readers)} reader x mode rows.{ai}"
    )


class DashboardState:
    """Bound to the dashboard: where the reads come from and the latest analysis."""

    def __init__(self, study_dir: Path | None = None, title: str = "Reader study report", kind: str = "binary") -> None:
        self.study_dir = study_dir
        self.title = title
        self.kind = kind  # the study's task kind: which results page shows, before the first analysis too
        self.analysis: Analysis | TaskAnalysis | RegionAnalysis | None = None
        self.busy = False
        self.message = ""
        self.message_ok: bool | None = None  # True: success, False: a problem, None: information

    def on_started(self, what: str) -> None:
        self.busy, self.message, self.message_ok = True, what, None

    def on_analysis(self, analysis: Analysis | TaskAnalysis | RegionAnalysis) -> None:
        self.busy, self.analysis, self.message_ok = False, analysis, None
        notes = analysis.result.get("notes", []) if isinstance(analysis, Analysis) else []
        self.message = f"Source: {analysis.source}" + ("" if not notes else "  ·  " + " ".join(notes))

    def on_exported(self, paths: dict[str, Path]) -> None:
        self.busy = False
        folder = next(iter(paths.values())).parent if paths else ""
        self.message, self.message_ok = f"Wrote {', '.join(paths)} to {folder}", True

    def on_failed(self, exc: BaseException) -> None:
        self.busy = False
        lines = exc.problems if isinstance(exc, StudyError) else [f"{type(exc).__name__}: {exc}"]
        self.message, self.message_ok = "; ".join(lines), False
