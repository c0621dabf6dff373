"""What Argo and the kubelet write in a failed node's message, which the retry expression
and the exit handler read (argo-workflows v3.7.18 workflow/controller/operator.go; the
kubelet's pkg/kubelet/active_deadline.go).

Each text is matched where it is put (the whole message, or its start), never anywhere: a
step's own termination message (workflows/cli.py) follows "main: Error (exit code N): " and
may contain any word.
"""

from __future__ import annotations

STEP_DEADLINE_MESSAGE = "Step exceeded its deadline"                    # operator.go
POD_DEADLINE_MESSAGE = "Pod was active on the node longer than the specified deadline"
OOM_MESSAGE = "main: OOMKilled"                      # inferFailedReason: "<container>: <reason>"
# A retry node's own texts (processNodeRetries): they say the retries ended, never why the
# step failed; its attempts say that.
RETRY_WRAPPER_MESSAGES = ("No more retries left", "retryStrategy.expression evaluated to false",
                          "Backoff for ", "Backoff would exceed max duration limit",
                          "Max duration limit exceeded")
