"""Reader-study statistics: pure functions of a long-format reads table.

Entry point: :func:`study.stats.analysis.analyze` (``from study.stats import analyze``).
Modules, one concept each: ``table`` (validate, normalise, decision threshold),
``binary`` (confusion counts, Wilson 1927 CIs), ``auc`` (Mann-Whitney AUC,
DeLong 1988, case jackknife), ``mrmc`` (Obuchowski & Rockette 1995 with
Hillis 2007 ddf; fully crossed, split-plot, partially paired and nested designs),
``ustat`` (unbiased U-statistic covariances, Gallas 2006), ``timing``
(reading-time quality control), ``sample_size`` (Hillis, Obuchowski & Berbaum 2011),
``mcnemar`` (McNemar 1947), ``agreement`` (Cohen 1960, Fleiss 1971),
``switching`` (unaided -> aided changes, automation bias), ``multiclass``,
``grades``, ``numeric`` (Bland & Altman 1986), ``segmentation``, ``tasks``
(non-binary summaries on the long table), ``simulate`` (seeded synthetic studies).
"""

from __future__ import annotations


def analyze(*args, **kwargs):
    """See :func:`study.stats.analysis.analyze` (imported lazily to keep ``import study.stats`` cheap)."""
    from study.stats.analysis import analyze as _analyze

    return _analyze(*args, **kwargs)


__all__ = ["analyze"]
