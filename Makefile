# Shortcuts for the commands in README.md and .github/workflows/. Every target runs plain
# commands you can also type yourself; nothing here is needed to use the project.
# The kind settings below are the ones .github/workflows/kind.yml uses (a test keeps them equal).

PYTHON ?= python
DELTASTORE ?= deltastore

CLUSTER_NAME ?= deltastore
KUBE_CONTEXT ?= kind-deltastore
RELEASE ?= deltastore
NAMESPACE ?= deltastore
IMAGE_REPOSITORY ?= deltastore-pipeline
IMAGE_TAG ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo dev)
DOCKERFILE ?= images/pipeline/Dockerfile
VALUES_FILE ?= charts/deltastore/ci/demo-values.yaml
DEMO_SCALE ?= 0.2
ARGO_WORKFLOWS_VERSION ?= v3.7.18
KIND_NODE_IMAGE ?= kindest/node:v1.32.0@sha256:c48c62eac5da28cdadcf560d1d8616cfa6783b58f0d94cf63ad1bf49600cb027
ARGO_CONTROLLER_CONFIG ?= docs/argo/workflow-controller-configmap.yaml

.DEFAULT_GOAL := help
.PHONY: help test lint demo render kind-up e2e

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | \
		awk 'BEGIN {FS = ":.*## "}; {printf "  make %-8s %s\n", $$1, $$2}'

test: ## Run the test suite (the README's command; cluster and SQL Server tests skip)
	$(PYTHON) -m pytest

lint: ## ruff, mypy, and check the generated Argo YAML is up to date (as .ci/run)
	$(PYTHON) -m ruff check .
	.ci/typecheck
	$(DELTASTORE) workflows render --check

demo: ## Run the whole pipeline on embedded demo data, no configuration needed
	$(DELTASTORE) demo

render: ## Regenerate the Argo YAML (workflows/manifests/ and the chart's files/)
	$(DELTASTORE) workflows render

kind-up: ## Create the kind cluster, load the image, install Argo Workflows and the demo chart
	@for tool in docker kind kubectl helm; do \
		command -v $$tool >/dev/null || { echo "kind-up needs \`$$tool\` on PATH"; exit 2; }; \
	done
	docker build --file "$(DOCKERFILE)" --tag "$(IMAGE_REPOSITORY):$(IMAGE_TAG)" .
	kind get clusters | grep -qx "$(CLUSTER_NAME)" || \
		kind create cluster --name "$(CLUSTER_NAME)" --image "$(KIND_NODE_IMAGE)"
	docker save --platform linux/amd64 --output "$(CLUSTER_NAME)-image.tar" \
		"$(IMAGE_REPOSITORY):$(IMAGE_TAG)"
	kind load image-archive "$(CLUSTER_NAME)-image.tar" --name "$(CLUSTER_NAME)"
	rm -f "$(CLUSTER_NAME)-image.tar"
	kubectl --context "$(KUBE_CONTEXT)" create namespace argo --dry-run=client -o yaml | \
		kubectl --context "$(KUBE_CONTEXT)" apply -f -
	kubectl --context "$(KUBE_CONTEXT)" apply --server-side -n argo -f \
		"https://github.com/argoproj/argo-workflows/releases/download/$(ARGO_WORKFLOWS_VERSION)/install.yaml"
	@# Full CRDs (install.yaml's are stripped) and the executor securityContext: see kind.yml.
	kubectl --context "$(KUBE_CONTEXT)" apply --server-side --force-conflicts --kustomize \
		"https://github.com/argoproj/argo-workflows/manifests/base/crds/full?ref=$(ARGO_WORKFLOWS_VERSION)"
	kubectl --context "$(KUBE_CONTEXT)" apply --server-side --force-conflicts -n argo \
		-f "$(ARGO_CONTROLLER_CONFIG)"
	kubectl --context "$(KUBE_CONTEXT)" -n argo rollout restart deployment/workflow-controller
	kubectl --context "$(KUBE_CONTEXT)" -n argo rollout status deployment/workflow-controller \
		--timeout=300s
	kubectl --context "$(KUBE_CONTEXT)" create namespace "$(NAMESPACE)" --dry-run=client -o yaml | \
		kubectl --context "$(KUBE_CONTEXT)" apply -f -
	kubectl --context "$(KUBE_CONTEXT)" label namespace "$(NAMESPACE)" --overwrite \
		pod-security.kubernetes.io/enforce=restricted pod-security.kubernetes.io/enforce-version=latest
	helm upgrade --install "$(RELEASE)" charts/deltastore \
		--kube-context "$(KUBE_CONTEXT)" --namespace "$(NAMESPACE)" \
		--values "$(VALUES_FILE)" \
		--set image.repository="$(IMAGE_REPOSITORY)" \
		--set-string image.tag="$(IMAGE_TAG)" \
		--set image.pullPolicy=IfNotPresent \
		--set-json demo.scale="$(DEMO_SCALE)" \
		--set-json workflow.suspend=true \
		--wait --wait-for-jobs --timeout 10m

e2e: kind-up ## kind-up, run the daily CronWorkflow once, then the cluster tests
	$(DELTASTORE) workflows submit --from cron --wait --timeout 1500 \
		--context "$(KUBE_CONTEXT)" --namespace "$(NAMESPACE)"
	DELTASTORE_KUBE_NAMESPACE="$(NAMESPACE)" DELTASTORE_KUBE_RELEASE="$(RELEASE)" \
		$(PYTHON) -m pytest tests/kind --kube-context "$(KUBE_CONTEXT)"
	DELTASTORE_KUBE_NAMESPACE="$(NAMESPACE)" \
		$(PYTHON) -m pytest -m kind --ignore=tests/kind --kube-context "$(KUBE_CONTEXT)"
