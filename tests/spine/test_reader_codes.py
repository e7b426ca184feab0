"""Reader codes that cannot collide: sign-in is exact, so a code with a space, or one equal to an
enrolled code ignoring case, would be a second reader in the statistics.  Refused by the store
(CLI and admin screen alike); studies that already hold such codes still open and sign in."""

from __future__ import annotations

import pytest

from study.engine import StudyEngine
from study.errors import StudyError
from study.store import Store


@pytest.fixture
def store(study_dir, db_url):
    s = Store.open(study_dir, db_url)
    s.add_reader("spec2", "specialist", "1234")
    yield s
    s.close()


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("SPEC2", "reader SPEC2: the code 'spec2' exists already; codes that differ only in upper/lower case"),
        ("Spec2", "reader Spec2: the code 'spec2' exists already"),
        ("spec2", "reader spec2: already exists"),
        (" spec2 ", "reader spec2: already exists"),
        ("spec 5", "reader code 'spec 5': must not contain spaces (e.g. 'spec5')"),
        ("dr  ali", "reader code 'dr  ali': must not contain spaces (e.g. 'drali')"),
        ("spec\t5", "reader code: contains the invisible or control character U+0009"),
        ("spec\u00a05", "reader code: contains the invisible or control character U+00A0"),
    ],
)
def test_colliding_or_spaced_codes_are_refused(store, code, message):
    with pytest.raises(StudyError) as err:
        store.add_reader(code, "specialist", "1234")
    assert err.value.problems[0].startswith(message), err.value.problems
    assert [r.code for r in store.readers()] == ["spec2"]


def test_distinct_codes_are_still_enrolled(store):
    for code in ("spec3", "SPEC4", "dr.ali-2"):
        store.add_reader(code, "specialist", "1234")
    assert [r.code for r in store.readers()] == ["spec2", "spec3", "SPEC4", "dr.ali-2"]
    with pytest.raises(StudyError, match="the code 'SPEC4' exists already"):
        store.add_reader("spec4", "specialist", "1234")


def test_a_study_that_already_holds_such_codes_still_opens(study_dir, monkeypatch):
    """Codes enrolled before the rule (an older version) are kept: the study opens, they sign in."""
    s = Store.open(study_dir)
    with monkeypatch.context() as m:
        m.setattr(Store, "reader_code_problem", lambda self, code: None)
        for code in ("spec2", "SPEC2", "spec 5"):
            s.add_reader(code, "specialist", "1234")
    s.close()
    engine = StudyEngine.open(study_dir)
    try:
        assert [r.code for r in engine.store.readers()] == ["spec2", "SPEC2", "spec 5"]
        assert [engine.login(code, "1234") for code in ("spec2", "SPEC2", "spec 5")] == ["spec2", "SPEC2", "spec 5"]
        assert engine.sessions("spec 5")[0].state == "not started"
        with pytest.raises(StudyError, match="the code 'spec2' exists already"):
            engine.store.add_reader("Spec2", "specialist", "1234")
    finally:
        engine.close()


def test_a_code_differing_only_by_spaces_from_an_old_one_is_refused(study_dir, monkeypatch):
    """``spec 5`` enrolled before spaces were refused: ``spec5`` (no space, so allowed by the
    space rule) would still be a second reader in the statistics."""
    s = Store.open(study_dir)
    try:
        with monkeypatch.context() as m:
            m.setattr(Store, "reader_code_problem", lambda self, code: None)
            s.add_reader("spec 5", "specialist", "1234")
        with pytest.raises(StudyError, match="the code 'spec 5' exists already; codes that differ only in upper/lower"):
            s.add_reader("SPEC5", "specialist", "1234")
    finally:
        s.close()


def test_codes_of_an_older_store_that_collide_are_named_by_status_and_validate(study_dir, db_url, monkeypatch, capsys):
    from study.commands import status, validate

    s = Store.open(study_dir, db_url)
    with monkeypatch.context() as m:
        m.setattr(Store, "reader_code_problem", lambda self, code: None)
        for code in ("spec2", "res1", "SPEC2", "Res 1", "spec3"):
            s.add_reader(code, "specialist", "1234")
    warnings = s.reader_code_collisions()
    s.close()
    assert warnings == [
        "reader codes 'spec2' and 'SPEC2' differ only in upper/lower case or spaces: they count as two "
        "readers in the statistics (if they are one person, read on under one code)",
        "reader codes 'res1' and 'Res 1' differ only in upper/lower case or spaces: they count as two "
        "readers in the statistics (if they are one person, read on under one code)",
    ]
    argv = [str(study_dir), *(["--db", db_url] if db_url else [])]
    parser = __import__("argparse").ArgumentParser()
    status.add_arguments(parser)
    assert status.run(parser.parse_args(argv)) == 0  # a warning, not a broken study
    out = capsys.readouterr().out
    assert all(f"warning: {w}" in out for w in warnings)
    parser = __import__("argparse").ArgumentParser()
    validate.add_arguments(parser)
    assert validate.run(parser.parse_args([*argv, "--quiet"])) == 0
    err = capsys.readouterr().err
    assert all(f"warning: {w}" in err for w in warnings)
