# Terraform: plan / deploy / destroy an environment, static checks and tests, and the local
# stack on the embedded AWS endpoint. Included by the Makefile; `make help` lists the targets.
#
#   make plan ENV=dev        make deploy ENV=dev        make destroy ENV=dev
#   make up / make down      (environments/local on the embedded endpoint, no AWS account)
#   make test-tf             (fmt, validate, terraform test, checkov; part of make test)

TERRAFORM ?= terraform
ENVIRONMENTS := $(sort $(patsubst environments/%/,%,$(wildcard environments/*/)))
ENV_DIR = environments/$(ENV)
# Saved by `make plan`, applied as is by `make deploy` (gitignored: *.tfplan).
PLAN_FILE = $(ENV).tfplan

# ---------------------------------------------------------------- provider installation
# Offline machines install hashicorp/* from a filesystem mirror; elsewhere from the registry.
# TF_PROVIDER_MIRROR= (empty) forces the registry.
TF_PROVIDER_MIRROR ?= $(if $(wildcard /opt/tf-plugins),/opt/tf-plugins,)
TF_CLI_CONFIG := $(CURDIR)/.terraform.tfrc
ifneq ($(strip $(TF_PROVIDER_MIRROR)),)
export TF_CLI_CONFIG_FILE := $(TF_CLI_CONFIG)
endif
export TF_IN_AUTOMATION := 1
# Terraform reads TF_VAR_aws_endpoint_url for environments/local (see `up`).

.PHONY: tf-cli-config
tf-cli-config: # (internal) write .terraform.tfrc when a provider mirror is used
ifneq ($(strip $(TF_PROVIDER_MIRROR)),)
	@test -d "$(TF_PROVIDER_MIRROR)" || { echo "TF_PROVIDER_MIRROR=$(TF_PROVIDER_MIRROR) is not a folder" >&2; exit 2; }
	@printf '%s\n' \
	  'provider_installation {' \
	  '  filesystem_mirror {' \
	  '    path    = "$(TF_PROVIDER_MIRROR)"' \
	  '    include = ["registry.terraform.io/hashicorp/*"]' \
	  '  }' \
	  '  direct {' \
	  '    exclude = ["registry.terraform.io/hashicorp/*"]' \
	  '  }' \
	  '}' > $(TF_CLI_CONFIG)
endif

# ---------------------------------------------------------------- ENV guard
.PHONY: env-guard
env-guard: # (internal) fail clearly unless ENV names a folder of environments/
	@if [ -z "$(ENV)" ]; then \
	  echo "ENV is not set: use ENV=<$(subst $() $(),|,$(ENVIRONMENTS))>, e.g. make $(firstword $(MAKECMDGOALS)) ENV=dev" >&2; exit 2; fi
	@if [ ! -d "$(ENV_DIR)" ]; then \
	  echo "ENV=$(ENV): environments/$(ENV) does not exist. Valid: $(ENVIRONMENTS)" >&2; exit 2; fi

# ---------------------------------------------------------------- AWS credentials (dev, prod)
# devtools/aws_credentials.py: exit 3 with what is missing (account, state bucket, login).
.PHONY: aws-credentials
aws-credentials: env-guard setup # (internal) say what credentials ENV needs when they are missing
	@$(PY) -m devtools.aws_credentials $(ENV)

# ---------------------------------------------------------------- plan / deploy / destroy
# EMBEDDED=1 plans dev/prod against the embedded endpoint: state in moto's S3, provider and
# backend pointed at it through AWS_ENDPOINT_URL, data dir apart from the real one.
EMBEDDED ?=
EMBEDDED_DATA_DIR = $(CURDIR)/.embedded-aws/tfdata/$(ENV)
EMBEDDED_ENV = AWS_ENDPOINT_URL=$$url AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
  AWS_EC2_METADATA_DISABLED=true AWS_MAX_ATTEMPTS=2 TF_DATA_DIR=$(EMBEDDED_DATA_DIR) \
  TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP)

# Real AWS (dev, prod) first checks credentials, so that a missing login fails in a second.
NEEDS_AWS = $(if $(filter-out local,$(ENV)),$(if $(EMBEDDED),,yes))

.PHONY: plan
plan: env-guard $(if $(NEEDS_AWS),aws-credentials) tf-cli-config $(if $(NO_BUILD),,build) ## Plan ENV=dev|prod|local and save it for deploy (EMBEDDED=1: dev/prod against the embedded endpoint)
ifeq ($(ENV),local)
	@url=$$($(PY) -m localaws.embedded url) || { echo "environments/local needs the embedded endpoint: make up" >&2; exit 3; }; \
	export TF_VAR_aws_endpoint_url=$$url TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP); \
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false >/dev/null && \
	$(TERRAFORM) -chdir=$(ENV_DIR) plan -input=false -out=$(PLAN_FILE)
else ifneq ($(EMBEDDED),)
	@url=$$($(PY) -m localaws.embedded start); \
	$(PY) -m localaws.embedded bucket camblur-embedded-state; \
	echo "Planning environments/$(ENV) against the embedded endpoint $$url (not AWS); nothing is saved for deploy."; \
	$(EMBEDDED_ENV) $(TERRAFORM) -chdir=$(ENV_DIR) init -input=false -reconfigure \
	  -backend-config=bucket=camblur-embedded-state -backend-config=key=$(ENV).tfstate \
	  -backend-config=region=eu-west-1 -backend-config=use_path_style=true \
	  -backend-config=skip_credentials_validation=true -backend-config=skip_requesting_account_id=true \
	  -backend-config=skip_metadata_api_check=true -backend-config=use_lockfile=false >/dev/null && \
	$(EMBEDDED_ENV) $(TERRAFORM) -chdir=$(ENV_DIR) plan -input=false -lock=false \
	  -var='allowed_account_ids=["123456789012"]' # moto's account, not the tfvars' one
else
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false -backend-config=backend.hcl
	TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP) $(TERRAFORM) -chdir=$(ENV_DIR) plan -input=false -out=$(PLAN_FILE)
endif

.PHONY: deploy
deploy: env-guard $(if $(NEEDS_AWS),aws-credentials) tf-cli-config build ## Build, plan ENV=..., show the plan, ask, then apply exactly that plan
	@test -z "$(EMBEDDED)" || { echo "EMBEDDED=1 only plans; make up deploys to the embedded endpoint" >&2; exit 2; }
	@$(MAKE) plan ENV=$(ENV) NO_BUILD=1
	@if [ "$(ENV)" != local ] && [ -z "$(AUTO_APPROVE)" ]; then \
	  read -r -p "Apply this plan to $(ENV)? Type yes: " answer && [ "$$answer" = yes ] || { echo "Not applied." >&2; exit 1; }; fi
	@if [ "$(ENV)" = local ]; then export TF_VAR_aws_endpoint_url=$$($(PY) -m localaws.embedded url); fi; \
	$(TERRAFORM) -chdir=$(ENV_DIR) apply -input=false $(PLAN_FILE) && rm -f $(ENV_DIR)/$(PLAN_FILE)

.PHONY: destroy
destroy: env-guard $(if $(NEEDS_AWS),aws-credentials) tf-cli-config ## Destroy ENV=... (asks for confirmation except for local)
	@test -z "$(EMBEDDED)" || { echo "EMBEDDED=1 only plans" >&2; exit 2; }
ifeq ($(ENV),local)
	@url=$$($(PY) -m localaws.embedded url) || { echo "embedded endpoint not running: nothing to destroy" >&2; exit 0; }; \
	TF_VAR_aws_endpoint_url=$$url TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP) \
	$(TERRAFORM) -chdir=$(ENV_DIR) destroy -input=false -auto-approve
else
	$(TERRAFORM) -chdir=$(ENV_DIR) init -input=false -backend-config=backend.hcl
	TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP) $(TERRAFORM) -chdir=$(ENV_DIR) destroy
endif

# ---------------------------------------------------------------- local stack
# make up: the embedded endpoint, environments/local applied to it, and the event pump
# (devtools/pump.py) that delivers what AWS would: S3 notifications of any client's uploads,
# the queue mappings, the schedules, async retries. make down undoes it all, whatever fails.
.PHONY: up
up: setup tf-cli-config build ## Start the embedded AWS endpoint, deploy environments/local to it, start the event pump
	@set -e; \
	if ! $(PY) -m localaws.embedded url >/dev/null 2>&1; then \
	  rm -f environments/local/terraform.tfstate environments/local/terraform.tfstate.backup; fi; \
	url=$$($(PY) -m localaws.embedded start); \
	export TF_VAR_aws_endpoint_url=$$url TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP); \
	$(TERRAFORM) -chdir=environments/local init -input=false >/dev/null; \
	echo "terraform apply of environments/local to $$url (a few minutes; log .embedded-aws/apply.log)"; \
	$(TERRAFORM) -chdir=environments/local apply -input=false -auto-approve -no-color \
	  >.embedded-aws/apply.log 2>&1 || { tail -n 40 .embedded-aws/apply.log >&2; \
	  echo "make up: terraform apply failed (log .embedded-aws/apply.log); make down removes what it made" >&2; exit 1; }; \
	grep '^Apply complete' .embedded-aws/apply.log; \
	$(PY) -m devtools.pump start --aws-url $$url --artifact $(CURDIR)/$(LAMBDA_ZIP); \
	raw=$$($(TERRAFORM) -chdir=environments/local output -raw raw_bucket); \
	blurred=$$($(TERRAFORM) -chdir=environments/local output -raw blurred_bucket); \
	echo; echo "camblur runs on the embedded AWS endpoint: $$url (the pump delivers its events; log .embedded-aws/pump.log)"; \
	echo "  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=eu-west-1   # the endpoint's fake keys"; \
	echo "  $(PY) -m devtools.samples demo-output/samples   # sample camera pictures, if you have none"; \
	echo "  $(VENV)/bin/aws --endpoint-url $$url s3 cp \"demo-output/samples/cam-north/gate/09-15 entrance.jpg\" s3://$$raw/cameras/cam-1/entrance.jpg"; \
	echo "  $(VENV)/bin/aws --endpoint-url $$url s3 ls s3://$$blurred/cameras/cam-1/     # the blurred copy, seconds later"; \
	echo "  $(VENV)/bin/camblur status"; \
	echo "  make down removes it all."

.PHONY: down
down: setup tf-cli-config ## Stop the event pump, destroy environments/local, stop the embedded endpoint (exit 0 when all is gone)
	@TF_VAR_lambda_zip_path=$(CURDIR)/$(LAMBDA_ZIP) $(PY) -m devtools.pump down --terraform-dir environments/local

# ---------------------------------------------------------------- static checks and tests
.PHONY: fmt
fmt: ## Format every Terraform file
	$(TERRAFORM) fmt -recursive terraform environments

.PHONY: validate
validate: tf-cli-config ## terraform fmt -check, then init -backend=false and validate every environment
	$(TERRAFORM) fmt -check -recursive -diff terraform environments
	@for env in $(ENVIRONMENTS); do \
	  echo "validate environments/$$env"; \
	  $(TERRAFORM) -chdir=environments/$$env init -input=false -backend=false >/dev/null && \
	  $(TERRAFORM) -chdir=environments/$$env validate -no-color || exit 1; \
	done

CHECKOV_VENV := .venv-checkov
CHECKOV_VERSION ?= 3.3.30
CHECKOV := $(CHECKOV_VENV)/bin/checkov

$(CHECKOV):
	$(PYTHON) -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/pip install --quiet --upgrade pip
	$(CHECKOV_VENV)/bin/pip install --quiet checkov==$(CHECKOV_VERSION)

.PHONY: lint-tf
lint-tf: $(CHECKOV) ## checkov (own venv, no download) on terraform/ and environments/, and tflint when installed
	$(CHECKOV) --quiet --compact --skip-download --framework terraform \
	  --directory terraform --directory environments
	@if command -v tflint >/dev/null 2>&1; then \
	  tflint --init --config $(CURDIR)/.tflint.hcl && \
	  tflint --config $(CURDIR)/.tflint.hcl --recursive; \
	else echo "tflint not installed: skipped (CI runs it, see .github/workflows/ci.yml)"; fi

.PHONY: test-tf
test-tf: validate ## Terraform checks for make test: fmt, validate, terraform test (mocked AWS), checkov
	$(TERRAFORM) -chdir=terraform init -input=false -backend=false >/dev/null
	$(TERRAFORM) -chdir=terraform test
	$(MAKE) lint-tf

.PHONY: lock-providers
lock-providers: ## Refresh every environment's .terraform.lock.hcl for linux/darwin amd64/arm64 (online, registry)
	@for env in $(ENVIRONMENTS); do \
	  echo "lock environments/$$env"; \
	  env -u TF_CLI_CONFIG_FILE $(TERRAFORM) -chdir=environments/$$env providers lock \
	    -platform=linux_amd64 -platform=linux_arm64 -platform=darwin_arm64 -platform=darwin_amd64 || exit 1; \
	done
