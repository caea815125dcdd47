# make demo: camblur end to end on this machine, no AWS account (devtools/demo.py).
# Deploys environments/local with Terraform to an embedded AWS endpoint on 127.0.0.1, uploads
# sample pictures, runs the live pass and the daily refinement, writes $(DEMO_OUTPUT)/.
DEMO_OUTPUT ?= demo-output
DEMO_MODEL_START_SECONDS ?= 3

.PHONY: demo
demo: setup build ## Run the whole system on an embedded AWS; results in demo-output/
	$(PY) -m devtools.demo --output $(DEMO_OUTPUT) --model-start-seconds $(DEMO_MODEL_START_SECONDS)
