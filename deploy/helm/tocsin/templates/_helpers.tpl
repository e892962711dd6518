{{/* The chart's name, shortened to what a Kubernetes name allows. */}}
{{- define "tocsin.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The release's full name: the release name, with the chart's unless it contains it. */}}
{{- define "tocsin.fullname" -}}
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

{{- define "tocsin.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tocsin.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "tocsin.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "tocsin.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{- define "tocsin.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "tocsin.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "tocsin.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret the pods read credentials from: existingSecret, or the chart's own. */}}
{{- define "tocsin.secretName" -}}
{{- default (include "tocsin.fullname" .) .Values.existingSecret }}
{{- end }}

{{/* "true" when the chart makes a Secret: it holds some credential or the database URL. */}}
{{- define "tocsin.ownSecret" -}}
{{- $held := false }}
{{- if not .Values.existingSecret }}
{{- range $name, $value := .Values.secrets }}{{ if $value }}{{ $held = true }}{{ end }}{{ end }}
{{- end }}
{{- if and .Values.database.url (not .Values.database.existingSecret) }}{{ $held = true }}{{ end }}
{{- if $held }}true{{ end }}
{{- end }}

{{/* "true" when the database is PostgreSQL (given as a URL or in a Secret). */}}
{{- define "tocsin.postgres" -}}
{{- if or .Values.database.existingSecret (hasPrefix "postgres" .Values.database.url) }}true{{ end }}
{{- end }}

{{/* "true" when Slack credentials are given (else Tocsin runs its local Slack sandbox). */}}
{{- define "tocsin.slack" -}}
{{- if or .Values.existingSecret .Values.secrets.SLACK_BOT_TOKEN }}true{{ end }}
{{- end }}

{{- define "tocsin.policyConfigMap" -}}
{{- default (include "tocsin.fullname" .) .Values.policy.existingConfigMap }}
{{- end }}

{{/* What values.schema.json cannot say: rendering stops with the reason. */}}
{{- define "tocsin.validate" -}}
{{- $replicas := int .Values.replicaCount }}
{{- if and (gt $replicas 1) (not (include "tocsin.postgres" .)) }}
{{- fail (printf "replicaCount is %d: more than one replica needs PostgreSQL (set database.url to postgresql://… or database.existingSecret); SQLite serves one replica only" $replicas) }}
{{- end }}
{{- if and (gt $replicas 1) (not (include "tocsin.slack" .)) }}
{{- fail (printf "replicaCount is %d: more than one replica needs Slack credentials (secrets.SLACK_BOT_TOKEN or existingSecret); the local Slack sandbox runs in one replica only" $replicas) }}
{{- end }}
{{- if and .Values.secrets.SLACK_BOT_TOKEN (not .Values.secrets.SLACK_SIGNING_SECRET) (not .Values.secrets.SLACK_APP_TOKEN) }}
{{- fail "secrets.SLACK_BOT_TOKEN needs secrets.SLACK_SIGNING_SECRET (HTTP mode) or secrets.SLACK_APP_TOKEN (Socket Mode)" }}
{{- end }}
{{- if and .Values.policy.content .Values.policy.existingConfigMap }}
{{- fail "policy.content and policy.existingConfigMap are both set: give the policy file one way" }}
{{- end }}
{{- if and .Values.persistence.enabled (gt $replicas 1) (not .Values.persistence.existingClaim) }}
{{- fail "persistence.enabled with more than one replica: /data is for SQLite, which serves one replica only (PostgreSQL needs no volume)" }}
{{- end }}
{{- end }}

{{/* The environment both containers get: settings, the database URL and the secrets. */}}
{{- define "tocsin.env" -}}
- name: TOCSIN_PORT
  value: {{ .Values.containerPort | quote }}
- name: MPLCONFIGDIR
  value: /tmp/matplotlib
{{- if .Values.database.existingSecret }}
- name: TOCSIN_DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ .Values.database.existingSecret }}
      key: {{ required "database.existingSecretKey is required with database.existingSecret" .Values.database.existingSecretKey }}
{{- end }}
{{- if or .Values.policy.content .Values.policy.existingConfigMap }}
- name: TOCSIN_CONFIG
  value: /config/policy.yaml
{{- end }}
- name: TOCSIN_MIGRATE_ON_START
  value: {{ not .Values.migrations.initContainer | quote }}
{{- $env := .Values.env }}
{{- if and .Values.ingress.enabled (not $env.TOCSIN_PUBLIC_URL) }}
{{- $first := first .Values.ingress.hosts }}
{{- $scheme := ternary "https" "http" (gt (len .Values.ingress.tls) 0) }}
- name: TOCSIN_PUBLIC_URL
  value: {{ printf "%s://%s" $scheme $first.host | quote }}
{{- end }}
{{- range $name, $value := $env }}
{{- if kindIs "float64" $value }}{{ if eq $value (floor $value) }}{{ $value = int64 $value }}{{ end }}{{ end }}
{{- if and (not (kindIs "invalid" $value)) (ne (toString $value) "") }}
- name: {{ $name }}
  value: {{ $value | toString | quote }}
{{- end }}
{{- end }}
{{- with .Values.extraEnv }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "tocsin.envFrom" -}}
{{- if include "tocsin.ownSecret" . }}
- secretRef:
    name: {{ include "tocsin.fullname" . }}
{{- end }}
{{- if .Values.existingSecret }}
- secretRef:
    name: {{ .Values.existingSecret }}
{{- end }}
{{- with .Values.extraEnvFrom }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{- define "tocsin.volumeMounts" -}}
- name: tmp
  mountPath: /tmp
- name: data
  mountPath: /data
{{- if or .Values.policy.content .Values.policy.existingConfigMap }}
- name: policy
  mountPath: /config
  readOnly: true
{{- end }}
{{- with .Values.extraVolumeMounts }}
{{ toYaml . }}
{{- end }}
{{- end }}
