# The daily refinement: its billed-time simulation and the cost estimate.
# Included by the Makefile; `make help` lists the targets.
#
#   make bench-refine [BENCH_REFINE_ARGS="--picture-seconds 0.3,0.7"]
#       200 / 2,000 / 20,000 cameras: billed inference-unit minutes vs the minimum, share
#       refined, DLQ; 57,600 message by message through the real code, larger in aggregate
#   make cost ENV=dev [CAMERAS=200] [INTERVAL=5] [COST_ARGS="--pictures-per-second-per-unit 8"]

CAMERAS ?= 200
INTERVAL ?= 5
COST_ARGS ?=
BENCH_REFINE_ARGS ?=

.PHONY: bench-refine
bench-refine: setup ## Simulate a day's refinement at 200/2,000/20,000 cameras: billed IU-minutes vs minimum, refined, DLQ
	$(PY) benchmarks/bench_refine.py $(BENCH_REFINE_ARGS)

.PHONY: cost
cost: setup ## Monthly cost of ENV's deployment beside the seed design (ENV=dev CAMERAS=200 INTERVAL=5)
	$(PY) -m devtools.cost --env "$(ENV)" --cameras $(CAMERAS) --interval-minutes $(INTERVAL) $(COST_ARGS)
