"""Models, predictions and explanations (torch; never Qt, SQLAlchemy or the store).

    from inference.spec import load_spec          # model.toml -> ModelSpec (SpecError names file and key)
    from inference.load import load_model         # weights checked by sha256 -> LoadedModel
    from inference.predict import predict         # (model, {role: Media}) -> study.aioutput.AIOutput
    from inference.precompute import precompute   # a study's cases -> sink.put(AIOutput), resumable

Modules: spec (model.toml), network (torchvision builders, CAM target layer),
load (weights), preprocess (Media -> tensors), cam (Grad-CAM family around
the grad-cam package), predict, precompute, train_demo (the demo models),
cam_quality (pointing game and energy share of a CAM on a finding), cam_eval
(CAM settings tried on a study's findings), operating_point (the threshold
chosen on a validation split).
"""
