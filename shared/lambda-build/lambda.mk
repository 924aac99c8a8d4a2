# How `sam build` builds the layer and every function (template.yaml: BuildMethod makefile).
#
# SAM copies a resource's CodeUri to a scratch folder, runs `make build-<LogicalId>` there
# with ARTIFACTS_DIR set, and zips what lands in ARTIFACTS_DIR. ContextPath picks the
# Makefile beside this file for the template's Architecture (SAM does not tell a makefile
# build the architecture); that Makefile sets ARCHITECTURE and includes this one.
#
# Lambda's code tree (/var/task, /opt) is read-only, so a module without bytecode is
# compiled again at every cold start: everything is compiled here, for the runtime's
# Python (3.11), in a mode that does not compare the sources' timestamps.

ARCHITECTURE ?= x86_64
PYTHON ?= python3.11
WHEEL_ARCH := $(if $(filter arm64,$(ARCHITECTURE)),aarch64,x86_64)

# Wheels the runtime accepts: python3.11 runs on Amazon Linux 2 (glibc 2.26); the locks are
# resolved for manylinux2014 (glibc 2.17). Every version is pinned with its hashes.
PIP_INSTALL := $(PYTHON) -m pip install --quiet --disable-pip-version-check \
	--no-deps --require-hashes --no-compile --only-binary=:all: --root-user-action=ignore \
	--implementation cp --python-version 3.11 \
	--platform manylinux_2_17_$(WHEEL_ARCH) --platform manylinux2014_$(WHEEL_ARCH)

# compileall DIR PREFIX: bytecode for every module under DIR, tracebacks naming the path the
# module has in Lambda (PREFIX) rather than the scratch folder.
define compile
	find "$(1)" -name __pycache__ -type d -prune -exec rm -rf {} +
	$(PYTHON) -m compileall -q -f -j 0 --invalidation-mode unchecked-hash \
		-s "$(1)" -p "$(2)" "$(1)" >/dev/null
endef

define check_python
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' || \
		{ echo "$(PYTHON) must be Python 3.11, the runtime's (bytecode is per minor version)" >&2; exit 1; }
endef

.PHONY: build-SharedLayer

# The layer: the locked runtime set, then the package `companion` (the development tools
# are the package companion_dev, in layers/devtools: never copied here).
build-SharedLayer:
	$(check_python)
	$(PIP_INSTALL) --target "$(ARTIFACTS_DIR)/python" -r requirements.lock
	rm -rf "$(ARTIFACTS_DIR)/python/bin"
	cp -R companion "$(ARTIFACTS_DIR)/python/companion"
	$(call compile,$(ARTIFACTS_DIR)/python,/opt/python)

# Any function: its folder, plus the packages of its own requirements.txt when it has one
# (requirements.lock beside it, from `make lock`, holds only what the layer does not ship).
build-%:
	$(check_python)
	cp -R . "$(ARTIFACTS_DIR)"
	rm -f "$(ARTIFACTS_DIR)/requirements.txt" "$(ARTIFACTS_DIR)/requirements.lock"
	if [ -f requirements.txt ]; then \
		test -f requirements.lock || { echo "$*: requirements.lock is missing: run make lock" >&2; exit 1; }; \
		$(PIP_INSTALL) --target "$(ARTIFACTS_DIR)" -r requirements.lock; \
		rm -rf "$(ARTIFACTS_DIR)/bin"; \
	fi
	$(call compile,$(ARTIFACTS_DIR),/var/task)
