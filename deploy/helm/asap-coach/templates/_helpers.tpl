{{/* The release's resource names: "RELEASE-asap-coach", or RELEASE when it already says so. */}}
{{- define "asap-coach.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* Labels that select one component's pods; call with (dict "root" $ "component" "web"). */}}
{{- define "asap-coach.selectorLabels" -}}
app.kubernetes.io/name: {{ .root.Chart.Name }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Every resource's labels; call with (dict "root" $ "component" "web"). */}}
{{- define "asap-coach.labels" -}}
{{ include "asap-coach.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version }}
{{- end -}}

{{- define "asap-coach.image" -}}
{{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}
{{- end -}}

{{- define "asap-coach.secretName" -}}
{{- .Values.existingSecret | default (include "asap-coach.fullname" .) -}}
{{- end -}}

{{/* Settings reach every container the same way: the ConfigMap, then the Secret. */}}
{{- define "asap-coach.envFrom" -}}
envFrom:
  - configMapRef:
      name: {{ include "asap-coach.fullname" . }}
  - secretRef:
      name: {{ include "asap-coach.secretName" . }}
{{- end -}}

{{/* Pods roll when their settings change (a ConfigMap or Secret change alone restarts nothing). */}}
{{- define "asap-coach.settingsChecksums" -}}
checksum/config: {{ include (print .Template.BasePath "/configmap.yaml") . | sha256sum }}
checksum/secret: {{ include (print .Template.BasePath "/secret.yaml") . | sha256sum }}
{{- end -}}

{{/* The image's unprivileged user (deploy/Dockerfile), and no Kubernetes API token. */}}
{{- define "asap-coach.podSecurity" -}}
automountServiceAccountToken: false
securityContext:
  runAsNonRoot: true
  runAsUser: 10001
  runAsGroup: 10001
  fsGroup: 10001
  seccompProfile:
    type: RuntimeDefault
{{- with .Values.imagePullSecrets }}
imagePullSecrets:
  {{- toYaml . | nindent 2 }}
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
volumes:
  - name: tmp
    emptyDir: {}
{{- end -}}

{{/* A container of the bot: the image, its settings, a read-only root with a writable /tmp. */}}
{{- define "asap-coach.container" -}}
image: {{ include "asap-coach.image" . }}
imagePullPolicy: {{ .Values.image.pullPolicy }}
{{ include "asap-coach.envFrom" . }}
securityContext:
  allowPrivilegeEscalation: false
  readOnlyRootFilesystem: true
  capabilities:
    drop: [ALL]
volumeMounts:
  - name: tmp
    mountPath: /tmp
{{- end -}}

{{/*
A long-running process (web or worker): both serve /healthz (alive) and /readyz (database
reachable, schema at head) on the PORT setting. Call with
(dict "root" $ "component" "web" "command" (list ...) "settings" .Values.web).
*/}}
{{- define "asap-coach.processPod" -}}
metadata:
  labels:
    {{- include "asap-coach.selectorLabels" . | nindent 4 }}
  annotations:
    {{- include "asap-coach.settingsChecksums" .root | nindent 4 }}
    {{- if .root.Values.metrics.podAnnotations }}
    prometheus.io/scrape: "true"
    prometheus.io/port: {{ .root.Values.port | quote }}
    prometheus.io/path: /metrics
    {{- end }}
    {{- with .root.Values.podAnnotations }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
spec:
  {{- include "asap-coach.podSecurity" .root | nindent 2 }}
  terminationGracePeriodSeconds: {{ .settings.terminationGracePeriodSeconds }}
  containers:
    - name: {{ .component }}
      {{- include "asap-coach.container" .root | nindent 6 }}
      command:
        {{- toYaml .command | nindent 8 }}
      ports:
        - name: http
          containerPort: {{ .root.Values.port }}
      startupProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 2
        failureThreshold: 30
      livenessProbe:
        httpGet:
          path: /healthz
          port: http
        periodSeconds: 20
        timeoutSeconds: 5
        failureThreshold: 3
      readinessProbe:
        httpGet:
          path: /readyz
          port: http
        periodSeconds: 10
        timeoutSeconds: 5
        failureThreshold: 3
      resources:
        {{- toYaml .settings.resources | nindent 8 }}
{{- end -}}
