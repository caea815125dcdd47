# Licence plates (camblur.plates): the packaged text detector on a generated set of crops.

.PHONY: bench-plates
bench-plates: setup ## Recall / false area / ms per crop of packaged_ocr on 540 synthetic plates
	$(PY) benchmarks/bench_plates.py
