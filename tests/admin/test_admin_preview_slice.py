"""The admin's case preview opens a series where the reading screen does (``opening_index``: the
central slice of a volume, the first frame of a clip), whatever the stored CAM, so the researcher
checks the AI on the view readers get."""

from __future__ import annotations

import numpy as np

from app.admin.model_state import ModelState
from app.admin.model_widget import ModelPanel
from app.viewer import HangingLayoutWidget
from app.viewer.viewport import opening_index
from study.aioutput import AIOutput
from study.demo.mri import build_mri
from study.engine import StudyEngine
from study.media import load


def test_the_preview_opens_a_series_at_the_reading_screens_slice(qtbot, tmp_path):
    study = build_mri(tmp_path / "mri", seed=3, n=2)
    engine = StudyEngine.open(study)
    try:
        case = engine.cases[0]
        role = "T2axi"
        media = load(case.media[role])
        assert media.n_frames > 2
        # a CAM whose mass sits on the first slice (edge artefacts do that): the preview used to jump there
        cam = np.zeros((media.n_frames, 8, 8), np.float16)
        cam[0] = 1.0
        cam[media.n_frames // 2, 3, 3] = 0.2
        engine.store.put_ai_output(
            AIOutput(
                case.case_id,
                "m",
                "binary",
                ("leiomyoma", "sarcoma"),
                (0.4, 0.6),
                predicted="sarcoma",
                score=0.6,
                cams={role: cam},
            )
        )
        panel = ModelPanel(ModelState(engine))
        qtbot.addWidget(panel)
        with qtbot.waitSignal(panel.preview_shown, timeout=20_000):
            panel.show_case(case.case_id, role)
        reading = HangingLayoutWidget()
        qtbot.addWidget(reading)
        reading.set_case({role: media})
        expected = reading.viewport(role).current_index
        assert expected == opening_index(media) == media.n_frames // 2
        assert panel.image_view.current_index == panel.cam_view.current_index == expected
        assert f"slice {expected + 1}/{media.n_frames}" in panel.image_view.corner_text()
        assert panel.cam_view.overlay.maps is not None  # the CAM is on, at that slice
    finally:
        engine.close()
