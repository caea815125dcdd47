# The operator's command (camblur): how fast `camblur status` answers for a full day.
# Included by the Makefile; `make help` lists the targets.
#
#   make bench-status        (57,600 state items of 200 cameras on the embedded endpoint)

.PHONY: bench-status
bench-status: setup ## Time camblur status for a 57,600-picture day (200 cameras) on the embedded endpoint
	$(PY) benchmarks/bench_status.py
