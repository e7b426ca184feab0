"""Fixtures for the statistics tests: the Van Dyke et al. (1993) MRMC data set."""

from pathlib import Path

import pandas as pd
import pytest

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def vandyke_raw() -> pd.DataFrame:
    """Van Dyke et al. (1993): 5 readers x 114 cases (45 positive) x 2 modalities, 1-5 ratings.

    Transcribed from RJafroc's VD.lrc (inst/extdata/datasets); ``trt0``/``trt1``
    are MRMCaov's treatments 1/2.  Every per-reader AUC matches MRMCaov's
    printed values, which checks the transcription.
    """
    return pd.read_csv(DATA / "vandyke.csv")


@pytest.fixture(scope="session")
def vandyke(vandyke_raw):
    from study.stats.table import normalise_reads, with_decisions

    df, _ = with_decisions(normalise_reads(vandyke_raw), 3)
    return df
