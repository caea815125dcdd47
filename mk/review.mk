# The review page (camblur review) and its browser test's Chromium.
#
#   make review [ENV=local] [PORT=8765]   (http://127.0.0.1:PORT/, Ctrl-C stops it)
#   make browser                          (Debian's chromium + chromium-driver, when missing)

CHROMIUM ?= /usr/bin/chromium
PORT ?= 8765

.PHONY: review
review: setup ## Serve the review page on 127.0.0.1 for ENV (default local): cameras, days, boxes
	$(VENV)/bin/camblur review --env $(or $(ENV),local) --port $(PORT)

# The browser test (tests/integration/test_review_page.py) drives the system's chromium with
# Selenium: no browser is downloaded. CI runs as root with Debian's packages reachable.
.PHONY: browser
browser: ## Install Debian's chromium and chromium-driver for the browser test (skipped when present)
	@if [ -x "$(CHROMIUM)" ] && command -v chromedriver >/dev/null; then exit 0; fi; \
	if [ "$$(id -u)" = 0 ]; then SUDO=; elif command -v sudo >/dev/null; then SUDO=sudo; \
	else echo "the browser test needs chromium and chromium-driver (Debian): install them as root" >&2; exit 1; fi; \
	$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium chromium-driver

test-py: browser
