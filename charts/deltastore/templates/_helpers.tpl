{{/*
Chart name, or nameOverride; cut to 63 characters (the DNS label limit).
*/}}
{{- define "deltastore.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Prefix of every resource name: fullnameOverride, else the release name (when it already
contains the chart name) or `<release>-<chart>`; cut to 63 characters.
*/}}
{{- define "deltastore.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{/*
A resource name `<fullname>-<suffix>`, with the prefix cut so the whole stays within 63
characters. Call with (list $ "suffix").
*/}}
{{- define "deltastore.componentName" -}}
{{- $root := index . 0 }}
{{- $suffix := index . 1 }}
{{- $prefix := include "deltastore.fullname" $root | trunc (int (sub 62 (len $suffix))) | trimSuffix "-" }}
{{- printf "%s-%s" $prefix $suffix }}
{{- end }}

{{/*
Chart name and version, for the helm.sh/chart label.
*/}}
{{- define "deltastore.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/*
Standard labels of every object the chart creates itself.
*/}}
{{- define "deltastore.labels" -}}
helm.sh/chart: {{ include "deltastore.chart" . }}
{{ include "deltastore.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: deltastore
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/*
Selector labels: stable across upgrades, so never include the version.
*/}}
{{- define "deltastore.selectorLabels" -}}
app.kubernetes.io/name: {{ include "deltastore.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{/*
ServiceAccount the workflow pods run as.
*/}}
{{- define "deltastore.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "deltastore.componentName" (list . "workflow")) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create=false: name an existing ServiceAccount, e.g. `--set serviceAccount.name=argo-workflow`" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/*
ConfigMap with the plain settings.
*/}}
{{- define "deltastore.configMapName" -}}
{{- include "deltastore.componentName" (list . "config") }}
{{- end }}

{{/*
Secret with the credentials: existingSecret, or the one the chart creates.
*/}}
{{- define "deltastore.secretName" -}}
{{- default (include "deltastore.componentName" (list . "secrets")) .Values.existingSecret }}
{{- end }}

{{/*
PersistentVolumeClaim of the demo data (legacy DB, DuckDB warehouse, sync target).
*/}}
{{- define "deltastore.dataPvcName" -}}
{{- include "deltastore.componentName" (list . "data") }}
{{- end }}

{{/*
Name of the demo store Deployment and Service (also its host name in the cluster).
*/}}
{{- define "deltastore.demoStoreName" -}}
{{- include "deltastore.componentName" (list . "demo-store") }}
{{- end }}

{{/*
Full image reference: repository@digest when a digest is set, else repository:tag (tag
defaults to the chart's appVersion).
*/}}
{{- define "deltastore.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion (toString .Values.image.tag)) }}
{{- end }}
{{- end }}

{{/*
Pod security context meeting the "restricted" Pod Security Standard; UID 10001 is the
image's user.
*/}}
{{- define "deltastore.podSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
fsGroup: 10001
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Container security context meeting the "restricted" Pod Security Standard.
*/}}
{{- define "deltastore.containerSecurityContext" -}}
runAsNonRoot: true
runAsUser: 10001
runAsGroup: 10001
allowPrivilegeEscalation: false
readOnlyRootFilesystem: true
capabilities:
  drop:
    - ALL
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
Scheduling fields shared by every pod spec the chart creates itself.
*/}}
{{- define "deltastore.podScheduling" -}}
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.priorityClassName }}
priorityClassName: {{ . | quote }}
{{- end }}
{{- with .Values.nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .Values.affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- end }}

{{/*
The plain settings as DELTASTORE_* variables. Demo mode points the URLs at the demo store
and at files on the demo PVC unless a URL is set explicitly.
*/}}
{{- define "deltastore.settings" -}}
{{- $c := .Values.config }}
{{- $demo := .Values.demo.enabled }}
{{- $store := printf "http://%s:8765" (include "deltastore.demoStoreName" .) }}
{{- $urls := dict
      "DELTASTORE_STORE_API_URL" (list $c.storeApiUrl $store "config.storeApiUrl" "https://store.example.com/api")
      "DELTASTORE_LEGACY_DB_URL" (list $c.legacyDbUrl "sqlite:///data/legacy.db" "config.legacyDbUrl" "mssql://reader@legacy-sql:1433/deltastore?encrypt=yes")
      "DELTASTORE_WAREHOUSE_URL" (list $c.warehouseUrl "duckdb:///data/warehouse.duckdb" "config.warehouseUrl" "mssql://loader@warehouse-sql:1433/dw?encrypt=yes")
      "DELTASTORE_SYNC_TARGET_URL" (list $c.syncTargetUrl "duckdb:///data/sync_target.duckdb" "config.syncTargetUrl" "mssql://sync@myserver.database.windows.net:1433/marts?encrypt=yes") }}
DELTASTORE_DATA_DIR: /data
{{- range $name, $spec := $urls }}
{{- $value := index $spec 0 }}
{{- if and (not $value) $demo }}
{{- $value = index $spec 1 }}
{{- end }}
{{- if not $value }}
{{- fail (printf "%s is required in production mode (demo.enabled=false): set it, e.g. `%s`, or install the self-contained demo with `--set demo.enabled=true`" (index $spec 2) (index $spec 3)) }}
{{- end }}
{{ $name }}: {{ $value | quote }}
{{- end }}
{{- with $c.dbtTarget }}
DELTASTORE_DBT_TARGET: {{ . | quote }}
{{- end }}
DELTASTORE_LEGACY_DB_SCHEMA: {{ $c.legacyDbSchema | quote }}
DELTASTORE_WAREHOUSE_COLUMNSTORE: {{ $c.warehouseColumnstore | toString | quote }}
DELTASTORE_SYNC_MAX_BATCH_BYTES: {{ $c.syncMaxBatchBytes | int64 | toString | quote }}
DELTASTORE_BATCH_SIZE: {{ $c.batchSize | int64 | toString | quote }}
DELTASTORE_ON_TIME_DAYS: {{ $c.onTimeDays | int64 | toString | quote }}
DELTASTORE_VERIFY_WHOLE_TABLES_DAYS: {{ $c.verifyWholeTablesDays | int64 | toString | quote }}
DELTASTORE_HTTP_TIMEOUT: {{ $c.httpTimeout | toString | quote }}
DELTASTORE_HTTP_RETRIES: {{ $c.httpRetries | int64 | toString | quote }}
DELTASTORE_HTTP_RETRY_SECONDS: {{ $c.httpRetrySeconds | toString | quote }}
DELTASTORE_LEGACY_LOOKBACK_SECONDS: {{ $c.legacyLookbackSeconds | toString | quote }}
DELTASTORE_SCHEMA_CHANGES: {{ $c.schemaChanges | quote }}
DELTASTORE_MAX_REJECT_SHARE: {{ $c.maxRejectShare | toString | quote }}
DELTASTORE_SYNC_MAX_DROP: {{ $c.syncMaxDrop | toString | quote }}
DELTASTORE_LOG_LEVEL: {{ $c.logLevel | quote }}
DELTASTORE_DBT_LOG_LEVEL_FILE: {{ $c.dbtLogLevelFile | quote }}
{{- end }}

{{/*
Fail early, with the fix, on values that would install but then fail at run time.
*/}}
{{- define "deltastore.validate" -}}
{{- $c := .Values.config }}
{{- range $key := list "storeApiUrl" "legacyDbUrl" "warehouseUrl" "syncTargetUrl" }}
{{- if regexMatch "^[A-Za-z]+://[^/@?]*:[^/@?]*@" (index $c $key) }}
{{- fail (printf "config.%s contains a password: remove `:<password>` from the URL and put it under `secrets` (or in `existingSecret`); URLs go to a ConfigMap, which anyone with read access to the namespace can see" $key) }}
{{- end }}
{{- end }}
{{- if not .Values.existingSecret }}
{{- $pairs := list
      (list "config.legacyDbUrl" $c.legacyDbUrl "secrets.legacyDbPassword" .Values.secrets.legacyDbPassword)
      (list "config.warehouseUrl" $c.warehouseUrl "secrets.warehousePassword" .Values.secrets.warehousePassword)
      (list "config.syncTargetUrl" $c.syncTargetUrl "secrets.syncTargetPassword" .Values.secrets.syncTargetPassword) }}
{{- range $pairs }}
{{- $url := index . 1 | lower }}
{{- $isMssql := regexMatch "^(mssql|sqlserver|azuresql)://" $url }}
{{- $noPasswordAuth := regexMatch "[?&]authentication=activedirectorymsi(&|$)" $url }}
{{- if and $isMssql (not $noPasswordAuth) (not (index . 3)) }}
{{- fail (printf "%s is an `mssql://` URL but %s is empty: pass the password with `--set-file %s=<file>` or a values file kept out of git, or name a Secret with `existingSecret`" (index . 0) (index . 2) (index . 2)) }}
{{- end }}
{{- end }}
{{- end }}
{{- $w := .Values.workflow }}
{{- if and (not (has $w.timezone (list "UTC" "Etc/UTC" "Etc/GMT" "GMT"))) (not $w.allowDstSchedule) }}
{{- fail (printf "workflow.timezone `%s`: outside UTC a daylight-saving change may skip a scheduled run or start it twice. Check the schedules with `deltastore workflows render --out /tmp/check --no-chart --timezone %s --schedule '%s' --freshness-schedule '%s'` (it refuses a time that a change skips or repeats and suggests one that is safe), then set workflow.allowDstSchedule=true; or use timezone `UTC`" $w.timezone $w.timezone $w.schedule $w.freshness.schedule) }}
{{- end }}
{{- end }}

{{/*
Prefix of the Argo objects' names (`<prefix>-pipeline`, `<prefix>-daily`, ...) and of the
demo's mutexes: the full name, cut so that the longest, `<prefix>-freshness`, stays within
the 52 characters Argo allows a CronWorkflow. Several releases can share a namespace.
*/}}
{{- define "deltastore.argoNamePrefix" -}}
{{- include "deltastore.fullname" . | trunc 40 | trimSuffix "-" }}
{{- end }}

{{/*
A generated Argo object from files/ with the per-release values put in place of its
sentinels. The text never passes through `tpl`, so Argo's own expressions stay as they are.
Call with (dict "root" $ "file" "files/<name>.yaml").
*/}}
{{- define "deltastore.argoObject" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $text := $root.Files.Get .file }}
{{- if not $text }}
{{- fail (printf "%s is missing from the chart: regenerate it with `deltastore workflows render`" .file) }}
{{- end }}
{{- $res := $v.workflow.resources }}
{{- $text = $text | replace "__DELTASTORE_NAME_PREFIX__" (include "deltastore.argoNamePrefix" $root) }}
{{- $text = $text | replace "__DELTASTORE_IMAGE__" (include "deltastore.image" $root | quote) }}
{{- $text = $text | replace "__DELTASTORE_IMAGE_PULL_POLICY__" ($v.image.pullPolicy | quote) }}
{{- $text = $text | replace "__DELTASTORE_CONFIGMAP__" (include "deltastore.configMapName" $root | quote) }}
{{- $text = $text | replace "__DELTASTORE_SECRET__" (include "deltastore.secretName" $root | quote) }}
{{- $text = $text | replace "__DELTASTORE_SERVICE_ACCOUNT__" (include "deltastore.serviceAccountName" $root | quote) }}
{{- $text = $text | replace "__DELTASTORE_CPU_REQUEST__" ($res.requests.cpu | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_MEMORY_REQUEST__" ($res.requests.memory | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_CPU_LIMIT__" ($res.limits.cpu | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_MEMORY_LIMIT__" ($res.limits.memory | toString | quote) }}
{{- $light := $v.workflow.lightResources }}
{{- $text = $text | replace "__DELTASTORE_LIGHT_CPU_REQUEST__" ($light.requests.cpu | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_LIGHT_MEMORY_REQUEST__" ($light.requests.memory | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_LIGHT_CPU_LIMIT__" ($light.limits.cpu | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_LIGHT_MEMORY_LIMIT__" ($light.limits.memory | toString | quote) }}
{{- $text = $text | replace "__DELTASTORE_DATA_PVC__" (include "deltastore.dataPvcName" $root | quote) }}
{{- $text = $text | replace "__DELTASTORE_FRESHNESS_SCHEDULE__" ($v.workflow.freshness.schedule | quote) }}
{{- $text = $text | replace "__DELTASTORE_SCHEDULE__" ($v.workflow.schedule | quote) }}
{{- $text = $text | replace "__DELTASTORE_TIMEZONE__" ($v.workflow.timezone | quote) }}
{{- $text = $text | replace "__DELTASTORE_SUSPEND__" (ternary "true" "false" $v.workflow.suspend) }}
{{- $text }}
{{- end }}

{{/*
A generated Argo object (see deltastore.argoObject) as the chart emits it: the chart's
standard labels on the object, the release's instance label on each run and step pod (the
NetworkPolicy selects by it), and for a WorkflowTemplate the scheduling values on its spec,
which every step pod inherits. Call with (dict "root" $ "file" "files/<name>.yaml").
*/}}
{{- define "deltastore.argoManifest" -}}
{{- $root := .root }}
{{- $v := $root.Values }}
{{- $object := include "deltastore.argoObject" . | fromYaml }}
{{- $labels := include "deltastore.labels" $root | fromYaml }}
{{- $_ := set $object.metadata "labels" (merge $labels $object.metadata.labels) }}
{{- if eq $object.kind "WorkflowTemplate" }}
{{- $spec := $object.spec }}
{{- $instance := dict "app.kubernetes.io/instance" $root.Release.Name }}
{{- $_ := set $spec.podMetadata "labels" (merge $instance $spec.podMetadata.labels) }}
{{- $_ := set $spec.workflowMetadata "labels" (merge (deepCopy $instance) $spec.workflowMetadata.labels) }}
{{- with $v.nodeSelector }}{{ $_ := set $spec "nodeSelector" . }}{{ end }}
{{- with $v.tolerations }}{{ $_ := set $spec "tolerations" . }}{{ end }}
{{- with $v.affinity }}{{ $_ := set $spec "affinity" . }}{{ end }}
{{- with $v.priorityClassName }}{{ $_ := set $spec "podPriorityClassName" . }}{{ end }}
{{- with $v.imagePullSecrets }}{{ $_ := set $spec "imagePullSecrets" . }}{{ end }}
{{- end }}
{{- toYaml $object }}
{{- end }}

{{/*
Spec of the demo-data Job (demo-data-job.yaml); its hash names the Job.
*/}}
{{- define "deltastore.demoDataJobSpec" -}}
backoffLimit: 2
activeDeadlineSeconds: {{ .Values.demo.dataJob.activeDeadlineSeconds }}
template:
  metadata:
    labels:
      {{- include "deltastore.labels" . | nindent 6 }}
      app.kubernetes.io/component: demo-data
  spec:
    restartPolicy: Never
    serviceAccountName: {{ include "deltastore.serviceAccountName" . }}
    # The job never calls the Kubernetes API.
    automountServiceAccountToken: false
    securityContext:
      {{- include "deltastore.podSecurityContext" . | nindent 6 }}
    {{- with include "deltastore.podScheduling" . | trim }}
    {{- . | nindent 4 }}
    {{- end }}
    containers:
      - name: demo-data
        image: {{ include "deltastore.image" . | quote }}
        imagePullPolicy: {{ .Values.image.pullPolicy }}
        args:
          - demo-data
          - legacy
          - --scale
          - {{ .Values.demo.scale | toString | quote }}
        envFrom:
          - configMapRef:
              name: {{ include "deltastore.configMapName" . }}
        resources:
          {{- toYaml .Values.demo.dataJob.resources | nindent 10 }}
        securityContext:
          {{- include "deltastore.containerSecurityContext" . | nindent 10 }}
        volumeMounts:
          - name: data
            mountPath: /data
          - name: tmp
            mountPath: /tmp
    volumes:
      - name: data
        persistentVolumeClaim:
          claimName: {{ include "deltastore.dataPvcName" . }}
      - name: tmp
        emptyDir: {}
{{- end }}
