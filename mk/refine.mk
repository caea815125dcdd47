# The daily refinement: its billed-time simulation and the cost estimate.
# Included by the Makefile; `make help` lists the targets.
#
#   make bench-refine                            (billed model minutes vs the minimum, DLQ count)
#   make cost ENV=dev [CAMERAS=200] [INTERVAL=5] [COST_ARGS="--pictures-per-second-per-unit 8"]

CAMERAS ?= 200
INTERVAL ?= 5
COST_ARGS ?=

.PHONY: bench-refine
bench-refine: setup ## Simulate a day's refinement: billed model minutes against the minimum, DLQ count
	$(PY) benchmarks/bench_refine.py

.PHONY: cost
cost: setup ## Monthly cost of ENV's deployment beside the seed design (ENV=dev CAMERAS=200 INTERVAL=5)
	$(PY) -m devtools.cost --env "$(ENV)" --cameras $(CAMERAS) --interval-minutes $(INTERVAL) $(COST_ARGS)
