"""Exports of a reader study: reads/metrics CSV and XLSX, iMRMC input, JSON, PDF report.

Entry point: :func:`study.export.report.write_report`; the figures in
:mod:`study.export.figures` return plain matplotlib ``Figure`` objects (no
pyplot), so a Qt dashboard can embed them too.
"""
