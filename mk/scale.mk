# Scale: the live trigger (S3 -> SQS -> live_blur) from 200 to 20,000 cameras on Rekognition's
# quotas, simulated on a fake clock around the real handler code. Included by the Makefile.
#
#   make bench-scale                         (a few minutes; the table of README "Scale")
#   make bench-scale SCALE_ARGS="--hours 24 --cameras 200 2000"   (a whole simulated day)

SCALE_ARGS ?=

.PHONY: bench-scale
bench-scale: setup ## Simulate 200/2,000/20,000 cameras on the default and the needed DetectLabels quota
	$(PY) benchmarks/bench_scale.py $(SCALE_ARGS)
