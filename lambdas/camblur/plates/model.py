"""Where the packaged text detector's model lives, and which bytes it must be.

The model is PP-OCRv4's text detector (Apache-2.0), as shipped in the PyPI wheel
rapidocr-onnxruntime 1.4.4. The build copies only that file into the zip (devtools/plate_model.py
checks both hashes); nothing is downloaded at run time, and rapidocr itself (with its
opencv-python, which needs libGL) is not installed.
"""

from __future__ import annotations

from pathlib import Path

MODEL_NAME = "ch_PP-OCRv4_det_infer.onnx"
MODEL_SHA256 = "d2a7720d45a54257208b1e13e36a8479894cb74155a5efe29462512d42f49da9"
MODEL_DIR = Path(__file__).resolve().parent / "models"
MODEL_PATH = MODEL_DIR / MODEL_NAME

WHEEL_REQUIREMENT = "rapidocr-onnxruntime==1.4.4"
WHEEL_NAME = "rapidocr_onnxruntime-1.4.4-py3-none-any.whl"
WHEEL_SHA256 = "971d7d5f223a7a808662229df1ef69893809d8457d834e6373d3854bc1782cbf"
WHEEL_MEMBER = f"rapidocr_onnxruntime/models/{MODEL_NAME}"
