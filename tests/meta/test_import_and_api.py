"""`import neyman` stays light and the public API does not change by accident."""

import subprocess
import sys

import neyman

HEAVY = [
    "torch",
    "uproot",
    "awkward",
    "xgboost",
    "lightgbm",
    "matplotlib",
    "h5py",
    "sklearn",
    "pyarrow",
    "optuna",
    "mlflow",
    "sqlalchemy",
]


def test_import_neyman_loads_no_heavy_dependency():
    code = f"import sys, neyman, neyman.config, neyman.tasks; print(','.join(m for m in {HEAVY!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == ""


def test_public_api_is_pinned():
    assert sorted(neyman.__all__) == sorted(
        [
            "ConfigError",
            "DataError",
            "ModelError",
            "NeymanError",
            "Table",
            "__version__",
            "predict",
            "train",
        ]
    )
    assert callable(neyman.train) and callable(neyman.predict)
    import neyman.models as models
    import neyman.tasks as tasks

    # families are declared in neyman.models.families: new ones may join, none may leave
    assert set(models.MODEL_FAMILIES) >= {
        *("mlp", "xgboost", "lightgbm", "fisher", "logistic"),
        *("cnn", "pfn", "efn", "particlenet", "transformer"),
    }
    assert set(tasks.TASKS) == {"binary", "multiclass", "regression", "gaussian", "autoencoder", "density", "generator"}


def test_representations_need_no_torch():
    code = "import sys, neyman.representations; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "False"  # jet inputs are built (and ONNX models scored) without torch
