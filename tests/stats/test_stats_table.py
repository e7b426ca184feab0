"""Validation and normalisation of the reads table: one clear line per problem."""

import pandas as pd
import pytest

from study.errors import StudyError
from study.stats.table import infer_threshold, normalise_reads, with_decisions


def good():
    return pd.DataFrame(
        {
            "reader": ["z", "z", "a", "a", "z", "z", "a", "a"],
            "modality": ["aided", "aided", "aided", "aided", "unaided", "unaided", "unaided", "unaided"],
            "case": [2, 1, 2, 1, 2, 1, 2, 1],
            "truth": [1, 0, 1, 0, 1, 0, 1, 0],
            "rating": [4, 2, 5, 1, 3, 3, 4, 2],
        }
    )


def problems(df, **kw):
    with pytest.raises(StudyError) as exc:
        normalise_reads(df, source="reads.csv", **kw)
    return exc.value.problems


def test_order_of_first_appearance_and_string_ids():
    df = normalise_reads(good())
    assert list(pd.unique(df["reader"])) == ["z", "a"]
    assert list(pd.unique(df["modality"])) == ["aided", "unaided"]
    assert df["case"].iloc[0] == "2"


def test_missing_columns_each_named():
    lines = problems(good().drop(columns=["rating", "truth"]))
    assert lines == [
        "reads.csv: column 'truth': missing (required: reader, modality, case, truth, rating)",
        "reads.csv: column 'rating': missing (required: reader, modality, case, truth, rating)",
    ]


def test_non_binary_truth():
    df = good()
    df.loc[0, "truth"] = 2
    df.loc[2, "truth"] = 2
    (line,) = problems(df)
    assert "not binary" in line and "2" in line


def test_case_without_truth_and_reader_missing_modality():
    df = good()
    df["truth"] = df["truth"].astype("float")
    df.loc[df["case"] == 1, "truth"] = None
    df = df[~((df.reader == "a") & (df.modality == "unaided"))]
    lines = problems(df)
    assert "reads.csv: case '1': has no truth" in lines
    assert "reads.csv: reader 'a': has no reads in modality 'unaided'" in lines


def test_contradictory_truth_duplicates_and_bad_rating():
    df = pd.concat([good(), good().iloc[[0]]]).astype({"rating": object})
    df.iloc[1, df.columns.get_loc("rating")] = "high"
    df.iloc[3, df.columns.get_loc("truth")] = 1  # case 1 now positive on one row
    lines = problems(df)
    assert any("rating" in ln and "not a number" in ln for ln in lines)
    assert "reads.csv: case '1': has contradictory truth values" in lines
    assert any("duplicate read" in ln for ln in lines)


def test_truth_words_accepted():
    df = good()
    df["truth"] = df["truth"].map({1: "yes", 0: "no"})
    assert normalise_reads(df)["truth"].tolist() == good()["truth"].tolist()


@pytest.mark.parametrize(
    ("ratings", "cut"),
    [
        ([1, 2, 5], 3.0),
        ([0.1, 0.9], 0.5),
        ([0, 37, 100], 50.0),
        ([-4, 6], 1.0),
        ([1, 4, 10], 5.5),
        ([0, 3, 5], 2.5),
        ([1, 2, 7], 4.0),
        ([1.39, 9.61], 5.5),
        ([0, 8], 5.0),
    ],
)
def test_threshold_midpoints(ratings, cut):
    assert infer_threshold(pd.Series(ratings, dtype=float)).value == cut


def test_decision_column_wins_unless_threshold_given():
    df = normalise_reads(good().assign(decision=[1, 1, 1, 0, 0, 0, 1, 0]))
    out, cut = with_decisions(df)
    assert cut.source == "own yes/no answers" and out["decision"].tolist() == [1, 1, 1, 0, 0, 0, 1, 0]
    out, cut = with_decisions(df, 4)
    assert out["decision"].tolist() == [1, 0, 1, 0, 0, 0, 1, 0]


def test_reader_group_is_first_non_blank():
    df = good().assign(group=["", "specialist", None, "resident", "specialist", "", "resident", "resident"])
    out = normalise_reads(df)
    assert out.groupby("reader")["group"].unique().map(list).to_dict() == {"a": ["resident"], "z": ["specialist"]}
