"""Aided reads need a model named in study.toml and its outputs stored (study.engine.AIReadiness):
the helpers tests use to give a study both, as the admin screen's attach and precompute do."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

TEST_MODEL_SPEC = "models/test/model.toml"


def attach_test_model(study_dir: str | Path, spec: str = TEST_MODEL_SPEC) -> None:
    """Name a model in ``study.toml`` (``[model] spec``) unless one is named already.  The spec
    file need not exist: the engine asks only whether a model is attached; its outputs are
    what the tests store."""
    toml = Path(study_dir) / "study.toml"
    text = toml.read_text(encoding="utf-8")
    if not any(line.strip() == "[model]" for line in text.splitlines()):
        toml.write_text(text.rstrip("\n") + f'\n\n[model]\nspec = "{spec}"\n', encoding="utf-8")


def give_binary_ai(engine, score: float = 0.9, model_id: str = "m") -> None:
    """Attach the test model and store one binary output per case of the engine's study."""
    from study.aioutput import AIOutput

    attach_test_model(engine.study_dir)
    for c in engine.cases:
        engine.store.put_ai_output(
            AIOutput(c.case_id, model_id, "binary", ("absent", "present"), (1 - score, score), score=score)
        )


@contextmanager
def aided_reads_without_ai():
    """Write a store as versions before the AI gate did: aided reads with no AI output stored
    (the engine now refuses them).  For tests of reports and screens that must still show such
    older stores; never for a test of the reading itself."""
    import pytest

    from study.engine import StudyEngine

    with pytest.MonkeyPatch.context() as legacy:
        legacy.setattr(StudyEngine, "ai_closed_reason", lambda self, info: None)
        legacy.setattr(StudyEngine, "cases_with_ai_output", lambda self: {c.case_id for c in self.cases})
        legacy.setattr("study.engine._has_ai_output", lambda s, case_id: True)
        yield
